"""`manage.py serve_demo_akeneo`: prints the URL and credentials, serves until Ctrl-C, refuses remote hosts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]


def test_serves_until_ctrl_c():
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "serve_demo_akeneo",
            "--port",
            "0",
            "--products",
            "30",
            "--seed",
            "3",
            "--faults",
            "throttle_every=1000",
            "--client-id",
            "cid",
            "--secret",
            "sec",
            "--username",
            "u",
            "--password",
            "p",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = []
        while not lines or not lines[-1].startswith("Press Ctrl-C"):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line.strip())
        base_url = lines[0].rsplit(" ", 1)[-1]
        assert base_url.startswith("http://127.0.0.1:")
        output = "\n".join(lines)
        for expected in (
            "client_id: cid",
            "secret: sec",
            "username: u",
            "password: p",
            "30 products",
            "faults: throttle_every=1000",
        ):
            assert expected in output
        response = requests.post(
            base_url + "/api/oauth/v1/token",
            auth=("cid", "sec"),
            json={"grant_type": "password", "username": "u", "password": "p"},
            timeout=10,
        )
        assert response.status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_default_credentials_are_documented_in_help():
    result = subprocess.run(
        [sys.executable, "manage.py", "serve_demo_akeneo", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    for default in ("demo-client", "demo-secret", "default: demo", "demo-password"):
        assert default in result.stdout


def test_refuses_non_loopback_host_without_allow_remote():
    with pytest.raises(CommandError, match="non-loopback"):
        call_command("serve_demo_akeneo", "--host", "0.0.0.0", "--port", "0")


def test_rejects_a_bad_fault_spec():
    with pytest.raises(CommandError, match="unknown fault"):
        call_command("serve_demo_akeneo", "--port", "0", "--faults", "explode=1")


def test_older_pim_options_legacy_measurements_and_refused_flags():
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "serve_demo_akeneo",
            "--port",
            "0",
            "--products",
            "20",
            "--legacy-measurements",
            "--refuse-flag",
            "with_enriched_attributes",
            "--refuse-flag",
            "with_position",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = []
        while not lines or not lines[-1].startswith("Press Ctrl-C"):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line.strip())
        output = "\n".join(lines)
        assert "legacy measurements: /measurement-families answers 404" in output
        assert "refused query parameters: with_enriched_attributes, with_position" in output
        base_url = lines[0].rsplit(" ", 1)[-1]
        token = requests.post(
            base_url + "/api/oauth/v1/token",
            auth=("demo-client", "demo-secret"),
            json={"grant_type": "password", "username": "demo", "password": "demo-password"},
            timeout=10,
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        def status(path: str) -> int:
            return requests.get(base_url + "/api/rest/v1" + path, headers=headers, timeout=10).status_code

        assert status("/measurement-families") == 404
        assert status("/measure-families") == 200
        assert status("/categories?with_enriched_attributes=true") == 422
        assert status("/categories?with_position=true") == 422
        assert status("/categories") == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
