"""A stand-in webhook receiver for testing the sandbox's sender: it checks signatures as Xero asks
and can be told to fail the next N deliveries."""

from __future__ import annotations

import json
import threading

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from wizard.webhooks.signature import is_valid


class Receiver:
    def __init__(self, key: str, fail_next: int = 0) -> None:
        self.key, self.fail_next = key, fail_next
        self.bodies: list[dict] = []  # every correctly signed body with events, failed or not
        self.answers: list[int] = []
        self._lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        with self._lock:
            status = self._answer(body, request.headers.get("x-xero-signature"))
            self.answers.append(status)
        return Response(b"", status=status)(environ, start_response)

    def _answer(self, body: bytes, signature: str | None) -> int:
        if not is_valid(self.key, body, signature):
            return 401
        payload = json.loads(body)
        if not payload["events"]:
            return 200
        self.bodies.append(payload)
        if self.fail_next > 0:
            self.fail_next -= 1
            return 500
        return 200

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
