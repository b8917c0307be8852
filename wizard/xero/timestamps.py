"""Xero's timestamps, fast: the `/Date(ms+0000)/` form every list endpoint uses, without a regex.

Used per record by the sync (UpdatedDateUTC) and the books postings (Date); anything else falls
back to `parse_xero_date`, so both always agree with the client.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from wizard.xero.api import parse_xero_date

_EPOCH = datetime(1970, 1, 1)


def xero_timestamp(value: str | None) -> datetime | None:
    """`parse_xero_date`, with a fast path for the `/Date(ms+0000)/` form."""
    if value and value[-7:] == "+0000)/" and value[:6] == "/Date(":
        digits = value[6:-7]
        if digits.isdecimal():  # the form of nearly every record (timedelta's 4th argument: milliseconds)
            return _EPOCH + timedelta(0, 0, 0, int(digits))
    if value and value.startswith("/Date(") and value.endswith(")/"):
        milliseconds = value[6:-2]
        for sign in "+-":  # drop the zone suffix: the milliseconds are UTC already
            cut = milliseconds.find(sign, 1)
            if cut > 0:
                milliseconds = milliseconds[:cut]
        if milliseconds.lstrip("-").isdigit():
            return _EPOCH + timedelta(milliseconds=int(milliseconds))
    return parse_xero_date(value)
