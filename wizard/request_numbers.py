"""The one place ids and whole numbers from requests are parsed: ASCII digits, within bounds.

Two 500s came from parsing them ad hoc (issue 11 item 5): a 30-digit id overflows SQLite's
INTEGER (and PostgreSQL's bigint), and `str.isdigit()` accepts Unicode digits such as '²' that
`int()` then refuses. URLs use the `id` converter (`<id:connection_id>`), which makes such a URL
a 404 before any view or policy runs; form fields use `whole_number`, which gives None for the
view to turn into a message by the field.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import BaseConverter, ValidationError

MAX_ID = 2**63 - 1  # the largest id a signed 64-bit column holds (SQLite INTEGER, bigint)
_MAX_DIGITS = len(str(MAX_ID))


def whole_number(text: str | None, minimum: int, maximum: int) -> int | None:
    """`text` as an int when it is 1-19 ASCII digits (spaces around allowed) within the bounds, else None."""
    text = (text or "").strip()
    if not 0 < len(text) <= _MAX_DIGITS or not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def parse_id(text: str | None) -> int | None:
    """A database id (1 .. 2**63-1) from a request, or None."""
    return whole_number(text, 1, MAX_ID)


def _regex_for_1_to(maximum: int) -> str:
    """A regex matching exactly the decimals 1..maximum, in ASCII, without leading zeros.

    The range lives in the regex, not only in to_python: werkzeug answers 405 instead of 404
    when a converter refuses a path that another method's rule would take.
    """
    digits = str(maximum)
    shorter = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    same_length = [
        f"{digits[:i]}[{1 if i == 0 else 0}-{int(d) - 1}][0-9]{{{len(digits) - i - 1}}}"
        for i, d in enumerate(digits)
        if int(d) > (1 if i == 0 else 0)
    ]
    return "(?:" + "|".join([*shorter, *same_length, digits]) + ")"


class IdConverter(BaseConverter):
    """`<id:name>`: a row id in a URL; anything else (too long, out of range, not ASCII) is a 404."""

    regex = _regex_for_1_to(MAX_ID)  # [0-9], never \d: \d matches Unicode digits
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValidationError()  # the rule does not match: routing answers 404
        return number

    def to_url(self, value: object) -> str:
        return str(int(value))  # type: ignore[call-overload]


def init_converters(app: Flask) -> None:
    """Register the converters; must run before any blueprint adds its rules."""
    app.url_map.converters["id"] = IdConverter
