"""Fault injection: each fault kind, where it applies (not the token endpoint by default), and the stats."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from demo_akeneo.faults import TOKEN_FAULTS, FaultConfig, FaultSpecError, decide

from .helpers import API, Client, token


def statuses(client: Client, count: int, path: str = "/locales") -> list[int]:
    return [client.get(API + path).status_code for _ in range(count)]


def test_spec_grammar():
    config = FaultConfig.parse(
        "throttle_every=7, error_rate=0.25,slow_every=3,slow_seconds=0.5,reset_every=11,malformed_page=2,token_ttl=5,faults_on_token=1,throttle_no_retry_after=1,max_concurrent=4"
    )
    assert config == FaultConfig(7, True, 0.25, 3, 0.5, 2, 11, 4, 5, True)
    assert FaultConfig.parse("") == FaultConfig() and not FaultConfig.parse(None).active
    for bad in (
        "nope=1",
        "throttle_every",
        "throttle_every=x",
        "error_rate=2",
        "slow_every=-1",
        "faults_on_token=maybe",
    ):
        with pytest.raises(FaultSpecError):
            FaultConfig.parse(bad)


def test_throttle_every_k_with_retry_after(make_server):
    server = make_server(faults="throttle_every=3")
    client = Client(server)  # the token request is not counted
    codes = [client.get(API + "/locales") for _ in range(6)]
    assert [r.status_code for r in codes] == [200, 200, 429, 200, 200, 429]
    assert codes[2].headers["Retry-After"] == "1"
    assert codes[2].json() == {"code": 429, "message": "Too many requests"}
    assert server.stats.faults["throttle"] == 2


def test_throttle_without_retry_after(make_server):
    client = Client(make_server(faults="throttle_every=1,throttle_no_retry_after=1"))
    response = client.get(API + "/locales")
    assert response.status_code == 429
    assert "Retry-After" not in response.headers


def test_token_endpoint_is_not_faulted_unless_asked(make_server):
    server = make_server(faults="throttle_every=1")
    assert token(server)["access_token"]
    strict = make_server(faults="throttle_every=1,faults_on_token=1")
    creds = strict.credentials
    response = requests.post(
        strict.base_url + "/api/oauth/v1/token",
        auth=(creds["client_id"], creds["secret"]),
        json={"grant_type": "password", "username": creds["username"], "password": creds["password"]},
        timeout=10,
    )
    assert response.status_code == 429


def test_error_rate_is_deterministic_and_mixes_500_and_503(make_server):
    seen = []
    for _ in range(2):
        client = Client(make_server(faults="error_rate=0.4", seed=7))
        seen.append(statuses(client, 40))
    assert seen[0] == seen[1]
    predicted = [decide(FaultConfig(error_rate=0.4), 7, n).error or 200 for n in range(1, 41)]
    assert seen[0] == predicted
    assert {500, 503, 200} <= set(seen[0])
    assert 5 < sum(1 for s in seen[0] if s != 200) < 30


def test_error_answers(make_server):
    client = Client(make_server(faults="error_rate=1"))
    bodies = {}
    for _ in range(12):
        response = client.get(API + "/locales")
        bodies[response.status_code] = response
    assert set(bodies) == {500, 503}
    assert bodies[500].json() == {"code": 500, "message": "Internal Server Error"}
    assert bodies[503].headers["Content-Type"].startswith("text/html")


def test_slow_every(make_server):
    client = Client(make_server(faults="slow_every=2,slow_seconds=0.5"))
    timings = []
    for _ in range(4):
        start = time.perf_counter()
        assert client.get(API + "/locales").status_code == 200
        timings.append(time.perf_counter() - start)
    assert timings[1] >= 0.5 and timings[3] >= 0.5
    assert timings[0] < 0.4 and timings[2] < 0.4


def test_latency_ms_delays_every_answer(make_server):
    server = make_server(latency_ms=150)
    start = time.perf_counter()
    client = Client(server)
    client.get(API + "/locales")
    assert time.perf_counter() - start >= 0.3  # token + one API call


def test_token_ttl_fault(make_server):
    assert token(make_server(faults="token_ttl=5"))["expires_in"] == 5
    assert token(make_server(token_ttl=42))["expires_in"] == 42


def test_malformed_page_once(make_server):
    server = make_server(faults="malformed_page=2")
    client = Client(server)
    assert client.get(API + "/locales").json()
    assert client.get(API + "/channels/ecommerce").status_code == 200  # not a list page
    broken = client.get(API + "/products-uuid", limit=5)
    assert broken.status_code == 200
    assert int(broken.headers["Content-Length"]) == len(broken.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.content)
    assert client.get(API + "/products-uuid", limit=5).json()["_embedded"]["items"]
    assert server.stats.faults["malformed"] == 1


def test_reset_every_closes_without_answer(make_server):
    server = make_server(faults="reset_every=2")
    client = Client(server)
    assert client.get(API + "/locales").status_code == 200
    with pytest.raises(requests.ConnectionError):
        client.get(API + "/locales")
    assert client.get(API + "/locales").status_code == 200  # a new connection works
    assert server.stats.by_status[0] == 1 and server.stats.faults["reset"] == 1


def test_max_concurrent(make_server):
    server = make_server(faults="max_concurrent=1,slow_every=1,slow_seconds=0.4")
    client = Client(server)
    results: list[int] = []

    def call() -> None:
        with requests.Session() as session:
            session.headers.update(client.session.headers)
            results.append(session.get(server.base_url + API + "/locales", timeout=10).status_code)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 429, 429]


def test_stats_count_status_and_kind(make_server):
    server = make_server()
    client = Client(server)
    client.get(API + "/products-uuid")
    client.get(API + "/products-uuid/nope")
    requests.get(server.base_url + API + "/locales", timeout=10)
    snapshot = server.stats.snapshot()
    assert snapshot["by_kind"] == {
        "token": 1,
        "products-uuid:list": 1,
        "products-uuid:item": 1,
        "locales:list": 1,
    }
    assert snapshot["by_status"] == {200: 2, 404: 1, 401: 1}
    assert [e.status for e in server.stats.log] == [200, 200, 404, 401]
    server.stats.reset()
    assert server.stats.snapshot()["total"] == 0


def post_token_at(server, prefix: str, timeout: float = 10) -> requests.Response:
    creds = server.credentials
    return requests.post(
        f"{server.base_url}/{prefix}/api/oauth/v1/token",
        auth=(creds["client_id"], creds["secret"]),
        json={"grant_type": "password", "username": creds["username"], "password": creds["password"]},
        timeout=timeout,
        allow_redirects=False,
    )


@pytest.mark.parametrize("name", sorted(TOKEN_FAULTS))
def test_token_fault_chosen_by_the_base_url_answers_it_and_is_logged(make_server, name):
    server = make_server(products=0)
    response = post_token_at(server, name)
    status, content_type, body, headers = TOKEN_FAULTS[name]
    assert (response.status_code, response.headers["Content-Type"], response.text) == (
        status,
        content_type,
        body,
    )
    assert all(response.headers[key] == value for key, value in headers.items())
    [entry] = server.stats.log
    assert (entry.path, entry.status, entry.kind, entry.fault) == (
        f"/{name}/api/oauth/v1/token",
        status,
        "token",
        f"token:{name}",
    )


def test_any_other_prefix_is_the_real_token_endpoint_and_echo_repeats_the_password(make_server):
    server = make_server(products=0)
    answer = post_token_at(server, "pim").json()
    ok = requests.get(
        server.base_url + API + "/locales",
        headers={"Authorization": f"Bearer {answer['access_token']}"},
        timeout=10,
    )
    assert ok.status_code == 200
    echoed = post_token_at(server, "echo")
    assert echoed.status_code == 422 and server.credentials["password"] in echoed.json()["message"]


def test_silent_token_fault_never_answers_until_the_client_gives_up(make_server):
    server = make_server(products=0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        post_token_at(server, "silent", timeout=0.5)
    assert [(entry.status, entry.fault) for entry in server.stats.log] == [(0, "token:silent")]
    assert post_token_at(server, "pim").status_code == 200  # the held request did not stop the server
