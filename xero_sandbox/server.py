"""Run the sandbox in a background thread (tests, browser tests, benchmarks) or in the
foreground (`python -m xero_sandbox`).

Two HTTP servers can carry the WSGI app:

- "lean" (default): a small threaded HTTP/1.1 server on the standard library with keep-alive
  (one thread per connection, reused across requests), TCP_NODELAY and the whole response sent
  in at most two writes. Werkzeug's development server closes every connection after one
  response (a TCP handshake and a new thread per API call) and sleeps 10 ms draining each one.
- "werkzeug": werkzeug's development server, as before.

Pick with `engine=` or XERO_SANDBOX_SERVER=werkzeug. Access lines go to the
`xero_sandbox.server` logger at INFO (shown by `python -m xero_sandbox`; the sandbox's own
request log, `SandboxState.requests()`, records API calls either way).
"""

from __future__ import annotations

import logging
import os
import socket
import socketserver
import sys
import threading
from collections.abc import Mapping
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from typing import IO, Any, Self, cast
from urllib.parse import unquote, urlsplit

from werkzeug.serving import DechunkedInput, ThreadedWSGIServer, make_server
from werkzeug.wsgi import LimitedStream

from . import create_app

log = logging.getLogger("xero_sandbox.server")

ENGINES = ("lean", "werkzeug")
SMALL_RESPONSE = 64 * 1024  # below this, status line + headers + body go out in one write
NO_BODY = (204, 304)


def _latin1(text: str) -> str:
    """PEP 3333 'bytes as latin-1' strings, exactly as werkzeug's server builds them."""
    return text.encode().decode("latin1")


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive in front of a WSGI app; the response is buffered, so it always
    carries a Content-Length and the connection stays usable."""

    protocol_version = "HTTP/1.1"
    server_version = "XeroSandbox/1.0"
    disable_nagle_algorithm = True
    timeout = 120  # an idle keep-alive connection is closed after this many seconds
    server: LeanServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError):
            pass  # the client went away or the idle connection timed out

    def handle_one_request(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if self.parse_request():  # sends 400/505 itself; honours Connection and HTTP/1.0
            self.run_wsgi()

    def make_environ(self) -> dict:
        url = urlsplit(self.path)
        path = f"/{url.netloc}{url.path}" if not url.scheme and url.netloc else url.path
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": self.rfile,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "SERVER_SOFTWARE": self.server_version,
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": _latin1(unquote(path)),
            "QUERY_STRING": _latin1(url.query),
            "REQUEST_URI": _latin1(self.path),
            "RAW_URI": _latin1(self.path),
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": self.client_address[1],
            "SERVER_NAME": host,
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
        }
        for key, value in self.headers.items():
            if "_" in key:
                continue
            key = key.upper().replace("-", "_")
            value = value.replace("\r\n", "")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = f"HTTP_{key}"
                if key in environ:
                    value = f"{environ[key]},{value}"
            environ[key] = value
        if url.scheme and url.netloc:
            environ["HTTP_HOST"] = url.netloc
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            environ["wsgi.input_terminated"] = True
            environ["wsgi.input"] = DechunkedInput(cast("IO[bytes]", self.rfile))
            self.close_connection = True  # simplest way not to misread what follows the body
        else:
            try:
                length = max(0, int(environ.get("CONTENT_LENGTH") or 0))
            except ValueError:
                length = 0
                self.close_connection = True
            environ["wsgi.input"] = LimitedStream(cast("IO[bytes]", self.rfile), length)
        return environ

    def run_wsgi(self) -> None:
        environ = self.make_environ()
        started: list = []

        def start_response(status, headers, exc_info=None):
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return chunks.append

        chunks: list[bytes] = []
        try:
            result = self.server.app(environ, start_response)
            try:
                chunks.extend(data for data in result if data)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except (ConnectionError, TimeoutError):
            raise
        except Exception:
            log.exception("Error on request %s %s", self.command, self.path)
            started[:] = ["500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain; charset=utf-8")]]
            chunks = [b"Internal Server Error"]
            self.close_connection = True
        self.send(started[0], started[1], chunks)
        stream = environ["wsgi.input"]
        if isinstance(stream, LimitedStream) and not self.close_connection:
            stream.exhaust()  # an unread request body must not be taken for the next request line

    def send(self, status: str, headers: list[tuple[str, str]], chunks: list[bytes]) -> None:
        code = int(status[:3])
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if self.command == "HEAD" or code < 200 or code in NO_BODY:
            body = b""
        lines = [f"HTTP/1.1 {status}\r\n"]
        seen = set()
        for name, value in headers:
            lower = name.lower()
            seen.add(lower)
            if lower == "connection" and value.strip().lower() == "close":
                self.close_connection = True
            lines.append(f"{name}: {value}\r\n")
        if "content-length" not in seen and not (code < 200 or code in NO_BODY):
            lines.append(f"Content-Length: {len(body)}\r\n")
        if "server" not in seen:
            lines.append(f"Server: {self.server_version} Python/{sys.version.split()[0]}\r\n")
        if "date" not in seen:
            lines.append(f"Date: {formatdate(usegmt=True)}\r\n")
        if self.close_connection and "connection" not in seen:
            lines.append("Connection: close\r\n")
        lines.append("\r\n")
        head = "".join(lines).encode("latin-1")
        if len(body) < SMALL_RESPONSE:
            self.wfile.write(head + body)
        else:
            self.wfile.write(head)
            self.wfile.write(body)
        if log.isEnabledFor(logging.INFO):
            log.info('%s - - "%s" %s %s', self.client_address[0], self.requestline, code, len(body) or "-")

    def log_message(self, fmt: str, *args) -> None:
        log.info("%s - - " + fmt, self.client_address[0], *args)


class LeanServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """Threaded HTTP/1.1 keep-alive server for a WSGI app (see `_Handler`)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, app) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((host, port), _Handler)
        self.server_port = self.server_address[1]

    def track(self, connection: socket.socket, add: bool) -> None:
        with self._connections_lock:
            (self._connections.add if add else self._connections.discard)(connection)

    def close_connections(self) -> None:
        """Shut down every open keep-alive connection (their threads then end)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def default_engine() -> str:
    engine = os.environ.get("XERO_SANDBOX_SERVER", "").strip().lower() or "lean"
    if engine not in ENGINES:
        raise ValueError(f"XERO_SANDBOX_SERVER must be one of {ENGINES}, not {engine!r}")
    return engine


class SandboxServer:
    """A running sandbox: `.url`, `.app`, `.state` (in-process handle), `.stop()`."""

    def __init__(self, app, host: str, port: int, engine: str | None = None) -> None:
        self.app = app
        self.state = app.extensions["xero_sandbox"]
        self.engine = engine or default_engine()
        if self.engine == "werkzeug":
            server = make_server(host, port, app, threaded=True)
            assert isinstance(server, ThreadedWSGIServer)
            server.daemon_threads = True
            self._server: ThreadedWSGIServer | LeanServer = server
        elif self.engine == "lean":
            self._server = LeanServer(host, port, app)
        else:
            raise ValueError(f"engine must be one of {ENGINES}, not {self.engine!r}")
        self.host = host
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="xero-sandbox", daemon=True)

    def start(self) -> SandboxServer:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (Ctrl-C)."""
        try:
            self._server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self._server.server_close()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if isinstance(self._server, LeanServer):
            self._server.close_connections()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_background(
    config: Mapping | None = None, host: str = "127.0.0.1", port: int = 0, engine: str | None = None
) -> SandboxServer:
    """Start a sandbox on a free loopback port in a daemon thread."""
    return SandboxServer(create_app(config), host, port, engine).start()
