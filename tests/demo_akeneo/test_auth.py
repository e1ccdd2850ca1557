"""The token endpoint answers like Akeneo: 422 bodies with Akeneo's messages, 400, 415, and refresh rotation."""

from __future__ import annotations

import requests

from demo_akeneo.auth import BAD_REFRESH, EXPIRED_TOKEN, INVALID_TOKEN, MISSING_CLIENT, MISSING_GRANT, NO_USER

from .helpers import API, token

TOKEN = "/api/oauth/v1/token"


def post_token(server, body=None, *, auth=None, data=None, headers=None):
    creds = server.credentials
    return requests.post(
        server.base_url + TOKEN,
        auth=auth if auth is not None else (creds["client_id"], creds["secret"]),
        json=body,
        data=data,
        headers=headers,
        timeout=10,
    )


def password_body(server, **overrides):
    body = {
        "grant_type": "password",
        "username": server.credentials["username"],
        "password": server.credentials["password"],
    }
    body.update(overrides)
    return body


def test_password_grant_returns_akeneo_token_answer(demo):
    response = post_token(demo, password_body(demo))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    data = response.json()
    assert set(data) == {"access_token", "expires_in", "token_type", "scope", "refresh_token"}
    assert data["token_type"] == "bearer"
    assert data["scope"] is None
    assert data["expires_in"] == 3600
    assert data["access_token"] != data["refresh_token"]


def test_form_encoded_body_is_accepted(demo):
    response = post_token(demo, data=password_body(demo))
    assert response.status_code == 200
    assert response.json()["access_token"]


def test_wrong_secret_is_422_client_message(demo):
    response = post_token(demo, password_body(demo), auth=(demo.credentials["client_id"], "nope"))
    assert response.status_code == 422
    assert response.json() == {"code": 422, "message": MISSING_CLIENT}


def test_missing_authorization_header_looks_like_a_bad_client(demo):
    response = requests.post(demo.base_url + TOKEN, json=password_body(demo), timeout=10)
    assert response.status_code == 422
    assert response.json()["message"] == MISSING_CLIENT


def test_wrong_password_is_422_no_user(demo):
    response = post_token(demo, password_body(demo, password="wrong"))
    assert response.status_code == 422
    assert response.json() == {"code": 422, "message": NO_USER}


def test_missing_grant_fields_are_422(demo):
    for body in (
        {"grant_type": "password", "username": "demo"},
        {"username": "demo", "password": "demo-password"},
        {"grant_type": "client_credentials"},
        [],
    ):
        response = post_token(demo, body)
        assert response.status_code == 422, body
        assert response.json() == {"code": 422, "message": MISSING_GRANT}


def test_malformed_json_is_400(demo):
    response = post_token(demo, data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"code": 400, "message": "Invalid json message received"}


def test_other_content_type_is_415(demo):
    response = post_token(demo, data="grant_type=password", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["code"] == 415


def test_refresh_gives_new_pair_and_burns_the_old_refresh_token(demo):
    first = token(demo)
    refreshed = post_token(demo, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert refreshed.status_code == 200
    data = refreshed.json()
    assert data["refresh_token"] != first["refresh_token"]
    assert data["access_token"] != first["access_token"]
    again = post_token(demo, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert again.status_code == 422
    assert again.json() == {"code": 422, "message": BAD_REFRESH}
    # the new refresh token works (once)
    assert (
        post_token(demo, {"grant_type": "refresh_token", "refresh_token": data["refresh_token"]}).status_code
        == 200
    )
    ok = requests.get(
        demo.base_url + API + "/locales",
        headers={"Authorization": f"Bearer {data['access_token']}"},
        timeout=10,
    )
    assert ok.status_code == 200


def test_unknown_refresh_token_is_422(demo):
    response = post_token(demo, {"grant_type": "refresh_token", "refresh_token": "bogus"})
    assert response.status_code == 422
    assert response.json()["message"] == BAD_REFRESH


def test_api_without_or_with_unknown_token_is_401(demo):
    url = demo.base_url + API + "/products-uuid"
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = requests.get(url, headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json() == {"code": 401, "message": INVALID_TOKEN}


def test_expired_token_is_401_expired(make_server):
    """A zero lifetime: the token is spent as soon as it is issued (told apart from an unknown token)."""
    server = make_server(token_ttl=0)
    answer = token(server)
    assert answer["expires_in"] == 0
    url = server.base_url + API + "/channels"
    response = requests.get(url, headers={"Authorization": f"Bearer {answer['access_token']}"}, timeout=10)
    assert response.status_code == 401
    assert response.json() == {"code": 401, "message": EXPIRED_TOKEN}


def test_expire_all_forces_the_refresh_path(make_server):
    server = make_server()
    pair = token(server)
    url = server.base_url + API + "/channels"
    server.tokens.expire_all()
    response = requests.get(url, headers={"Authorization": f"Bearer {pair['access_token']}"}, timeout=10)
    assert response.json() == {"code": 401, "message": EXPIRED_TOKEN}
    refreshed = post_token(
        server, {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
    ).json()
    assert (
        requests.get(
            url, headers={"Authorization": f"Bearer {refreshed['access_token']}"}, timeout=10
        ).status_code
        == 200
    )


def test_custom_credentials(make_server):
    server = make_server(client_id="c", secret="s", username="u", password="p")
    assert server.credentials == {"client_id": "c", "secret": "s", "username": "u", "password": "p"}
    assert token(server)["access_token"]


def test_accept_header(client, demo):
    url = demo.base_url + API + "/locales"
    auth = {"Authorization": f"Bearer {client.token}"}
    assert requests.get(url, headers={**auth, "Accept": "text/html"}, timeout=10).status_code == 406
    for accept in ("application/json", "*/*", "application/json, text/plain;q=0.5"):
        assert requests.get(url, headers={**auth, "Accept": accept}, timeout=10).status_code == 200
    no_accept = requests.Request("GET", url, headers=auth).prepare()
    no_accept.headers.pop("Accept", None)
    with requests.Session() as session:
        assert session.send(no_accept, timeout=10).status_code == 200


def test_root_listing_is_public_and_write_methods_are_405(demo, client):
    root = requests.get(demo.base_url + API, timeout=10)
    assert root.status_code == 200
    assert root.json()["authentication"]["fos_oauth_server_token"]["route"] == TOKEN
    response = client.session.post(demo.base_url + API + "/products-uuid", json={}, timeout=10)
    assert response.status_code == 405
    assert client.get(API + "/nope").status_code == 404
