"""Issue 11 item 7: the OAuth callback's query string (Xero's one-time code and our state) is
never written to an access log: not by the development server `make run` uses, not by gunicorn
run with the shipped gunicorn.conf.py."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import ROOT, LiveServer, _free_port, wait_until
from wizard.access_log import CALLBACK_PATH

CODE, STATE = "xero-one-time-code-4b1e9d", "our-state-7c2a55f0"
CALLBACK = f"{CALLBACK_PATH}?code={CODE}&state={STATE}&scope=openid"


def _get(url: str) -> None:
    try:
        urllib.request.urlopen(url, timeout=10)
    except urllib.error.HTTPError:
        pass  # a redirect to sign in, or a refusal: the request is logged all the same


def test_the_callback_path_is_the_route_the_redaction_knows(app):
    with app.test_request_context():
        from flask import url_for

        assert url_for("connect.callback") == CALLBACK_PATH


def test_the_development_server_log_has_no_code_or_state(app, caplog):
    server = LiveServer(app, _free_port())
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            _get(server.url + CALLBACK)
            _get(server.url + "/healthz?check=1")
    finally:
        server.stop()
    log = caplog.text
    assert f"GET {CALLBACK_PATH}?[redacted] HTTP/1.1" in log
    assert "GET /healthz?check=1 HTTP/1.1" in log  # other query strings are kept
    assert CODE not in log and STATE not in log


def test_gunicorn_with_the_shipped_config_logs_no_code_or_state(test_env, tmp_path: Path):
    port = _free_port()
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        # Started from the project folder, gunicorn reads ./gunicorn.conf.py by itself.
        process = subprocess.Popen(
            # No control socket: its default path is shared by every gunicorn of this account.
            [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "--no-control-socket", "wsgi:app"],
            cwd=ROOT,
            env={**os.environ, **test_env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: _answers(f"http://127.0.0.1:{port}/healthz", process), timeout=60)
            _get(f"http://127.0.0.1:{port}{CALLBACK}")
            _get(f"http://127.0.0.1:{port}/healthz?check=1")
            # gunicorn writes the access line after answering: wait for it, not for a clock.
            wait_until(lambda: "/healthz?check=1" in log_path.read_text(), timeout=30)
        finally:
            process.terminate()
            process.wait(timeout=30)
    text = log_path.read_text()
    assert f'"GET {CALLBACK_PATH}?[redacted] HTTP/1.1"' in text, text[-2000:]
    assert '"GET /healthz?check=1 HTTP/1.1"' in text
    assert CODE not in text and STATE not in text


def _answers(url: str, process: subprocess.Popen) -> bool:
    assert process.poll() is None, "gunicorn exited"
    try:
        urllib.request.urlopen(url, timeout=1)
    except OSError:
        return False
    return True
