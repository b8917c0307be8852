"""gunicorn's logger with the OAuth callback's query string redacted from every access-log atom
(request line, query, URI environ entries, Referer). Named in gunicorn.conf.py as `logger_class`."""

from __future__ import annotations

from typing import Any, cast

from gunicorn.glogging import Logger

from wizard.access_log import CALLBACK_PATH, REDACTED, redact_callback_query


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        # gunicorn adds an atom per request header, response header and environ entry ({name}i,
        # {name}o, {name}e) to the fixed ones its stubs' TypedDict names, so keys are any string.
        atoms = cast("dict[str, Any]", super().atoms(resp, req, environ, request_time))
        query = environ.get("QUERY_STRING") or ""
        on_callback = (environ.get("PATH_INFO") or "").rstrip("/") == CALLBACK_PATH and query
        for key, value in atoms.items():
            if isinstance(value, str):
                if on_callback and query in value:
                    value = value.replace(query, REDACTED)
                atoms[key] = redact_callback_query(value)
        return atoms
