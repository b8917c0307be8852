"""The workspace's time zone: validated IANA names, and the zone the server writes times in."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import g, has_request_context
from flask_login import current_user


class UnknownTimeZone(ValueError):
    """A name that is not an IANA time zone (what zoneinfo knows)."""


@cache
def zone_names() -> list[str]:
    """Every zone name a workspace may choose, sorted (for the settings form's suggestions)."""
    return sorted(available_timezones())


def parse_zone(name: str) -> str:
    """The canonical spelling of a zone name typed by an admin, or UnknownTimeZone with a clear message."""
    typed = name.strip()
    if not typed:
        raise UnknownTimeZone("Enter a time zone, for example Pacific/Auckland or Europe/London.")
    by_lower = {zone.lower(): zone for zone in zone_names()}
    if typed.lower() not in by_lower:
        raise UnknownTimeZone(
            f"“{typed[:64]}” is not a time zone we know. Use a name from the IANA list, "
            "as a region and a city: for example Pacific/Auckland, Europe/London or America/New_York."
        )
    return by_lower[typed.lower()]


def zone_of(name: str | None) -> tzinfo:
    """A stored zone name as tzinfo; UTC when unset (or no longer known to this machine's tz data)."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def viewer_zone() -> tzinfo:
    """The zone for times written by the server in this request: the viewer's workspace setting, else UTC.

    Support staff belong to no workspace and see UTC; the browser script localises for everyone."""
    if not has_request_context():
        return UTC
    if "viewer_zone" not in g:
        workspace = getattr(current_user, "workspace", None) if current_user.is_authenticated else None
        g.viewer_zone = zone_of(workspace.time_zone if workspace else None)
    return g.viewer_zone


def zone_text(moment: datetime, fmt: str = "%d %b %Y %H:%M") -> str:
    """A stored (naive UTC) time as plain text in the viewer's zone, with the zone's abbreviation."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    shown = utc.astimezone(viewer_zone())
    return f"{shown.strftime(fmt)} {shown.tzname()}"
