"""Access logs never hold the OAuth callback's query string (Xero's one-time `code` and our
`state`), issue 11 item 7. One redaction, used by the development server's log (`make run`,
`flask run`) and by gunicorn's access log (wizard.gunicorn_logging, set in gunicorn.conf.py).
"""

from __future__ import annotations

import logging
import re

CALLBACK_PATH = "/connect/xero/callback"  # the connect blueprint's callback route
REDACTED = "[redacted]"
_CALLBACK_QUERY = re.compile(re.escape(CALLBACK_PATH) + r"\?[^\s\"']*")


def redact_callback_query(text: str) -> str:
    """`text` with the query string of every callback URL in it replaced by [redacted]."""
    return _CALLBACK_QUERY.sub(f"{CALLBACK_PATH}?{REDACTED}", text)


class RedactCallbackQuery(logging.Filter):
    """For the "werkzeug" logger: its request lines arrive as %-arguments of the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_callback_query(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_callback_query(a) if isinstance(a, str) else a for a in record.args)
        return True


def redact_dev_server_log() -> None:
    """Install the filter on the development server's request log, once per process."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactCallbackQuery) for f in logger.filters):
        logger.addFilter(RedactCallbackQuery())
