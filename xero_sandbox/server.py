"""Run the sandbox in a background thread (tests, browser tests, benchmarks)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Self

from werkzeug.serving import make_server

from . import create_app


class SandboxServer:
    """A running sandbox: `.url`, `.app`, `.state` (in-process handle), `.stop()`."""

    def __init__(self, app, host: str, port: int) -> None:
        self.app = app
        self.state = app.extensions["xero_sandbox"]
        self._server = make_server(host, port, app, threaded=True)
        self._server.daemon_threads = True
        self.host = host
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="xero-sandbox", daemon=True)

    def start(self) -> SandboxServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_background(config: Mapping | None = None, host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
    """Start a sandbox on a free loopback port in a daemon thread."""
    return SandboxServer(create_app(config), host, port).start()
