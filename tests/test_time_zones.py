"""Times for people (issue 16): every time a page shows is a <time> with its UTC instant and UTC on
hover, written in the workspace's time zone, which an admin sets (and mistypes) on the settings page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from tests.support_access.world import build_world, login
from wizard import policy

CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b")  # a time of day written anywhere in the page's text
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


class TimeReader(HTMLParser):
    """Collects every <time> (attributes and text) and any clock time written outside one."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[dict] = []
        self.loose: list[str] = []
        self._open: dict | None = None
        self._skip = 0  # inside <script>/<style>, whose text is not shown

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "time":
            self._open = {**dict(attrs), "text": ""}

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag == "time" and self._open is not None:
            self.times.append(self._open)
            self._open = None

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data
        elif not self._skip and CLOCK.search(data):
            self.loose.append(data.strip())


def _read(html: str) -> TimeReader:
    reader = TimeReader()
    reader.feed(html)
    return reader


def _world_with_notification(app, zone: str | None):
    from wizard.extensions import db
    from wizard.models import Notification, Workspace

    with app.app_context():
        world = build_world()
        db.session.get(Workspace, world.workspace_a).time_zone = zone
        db.session.add(
            Notification(
                user_id=world.user_ids["admin"],
                workspace_id=world.workspace_a,
                kind="connection_failed",
                title="Acme Active Ltd stopped syncing",
                created_at=world.now - timedelta(hours=3),
                resolved_at=world.now - timedelta(hours=1),
            )
        )
        db.session.commit()
    return world


def _get_pages(app, client, world, rules: set[str]) -> dict[str, str]:
    """Every GET page the policy gives these rules, with ids from the world; those that answer 200."""
    known = {
        "connection_id": world.connections["active"],
        "grant_id": world.grants["active"],
        "run_id": world.runs["active"],
    }
    pages = {}
    for url_rule in app.url_map.iter_rules():
        if "GET" not in url_rule.methods or policy.POLICY.get(url_rule.endpoint) not in rules:
            continue
        if not set(url_rule.arguments) <= known.keys():
            continue
        with app.test_request_context():
            url = url_rule.build({name: known[name] for name in url_rule.arguments}, append_unknown=False)[1]
        response = client.get(url)
        if response.status_code == 200 and response.mimetype == "text/html":
            pages[url_rule.endpoint] = response.get_data(as_text=True)
    return pages


def test_every_time_on_every_page_is_a_time_element_with_utc_on_hover(app):
    world = _world_with_notification(app, "Pacific/Auckland")
    support = app.test_client()
    login(support, world.emails["support"])
    pages = {
        f"support {k}": v for k, v in _get_pages(app, support, world, {policy.SUPPORT, policy.SUPPORT_GRANT}).items()
    }
    admin = app.test_client()
    login(admin, world.emails["admin"])  # after support's visit, so the audit trail has entries
    pages.update(_get_pages(app, admin, world, {policy.MEMBER, policy.ADMIN, policy.SIGNED_IN}))
    for must in (
        "support support.doctor",
        "support support.console",
        "data.connection",
        "support.grants",
        "support.grant",
        "notifications.index",
        "books.overview",
        "data.index",
        "settings.workspace",
    ):
        assert must in pages, sorted(pages)
    seen = 0
    auckland = ZoneInfo("Pacific/Auckland")
    for endpoint, html in pages.items():
        reader = _read(html)
        assert not reader.loose, f"{endpoint}: times outside <time>: {reader.loose}"
        for time in reader.times:
            assert ISO_UTC.match(time.get("datetime", "")), (endpoint, time)
            instant = datetime.strptime(time["datetime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            assert time["title"].endswith(" UTC") and instant.strftime("%H:%M") in time["title"], (endpoint, time)
            # The server writes the workspace's zone for its members; support staff belong to none.
            shown = instant if endpoint.startswith("support ") else instant.astimezone(auckland)
            assert time["text"].endswith(" " + shown.tzname()) and shown.strftime("%H:%M") in time["text"], (
                endpoint,
                time,
            )
            seen += 1
    assert seen >= 30, seen


def test_admin_sets_the_workspace_time_zone_and_times_follow_it(app):
    from wizard.extensions import db
    from wizard.models import Workspace

    world = _world_with_notification(app, None)
    admin = app.test_client()
    login(admin, world.emails["admin"])
    form = admin.get("/settings/workspace").get_data(as_text=True)
    assert 'name="time_zone"' in form and 'value="UTC"' in form and '<option value="Europe/London">' in form
    before = _read(admin.get("/notifications").get_data(as_text=True)).times
    assert before and all(t["text"].endswith(" UTC") for t in before)

    saved = admin.post("/settings/workspace", data={"time_zone": " asia/kolkata "})
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/settings/workspace")
    with app.app_context():
        assert db.session.get(Workspace, world.workspace_a).time_zone == "Asia/Kolkata"
    assert "Times are now shown in Asia/Kolkata" in admin.get("/settings/workspace").get_data(as_text=True)
    after = _read(admin.get("/notifications").get_data(as_text=True)).times
    for time in after:
        instant = datetime.strptime(time["datetime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert (
            time["text"].endswith(" IST")
            and (instant + timedelta(hours=5, minutes=30)).strftime("%H:%M") in time["text"]
        )
        assert time["title"].endswith(" UTC")


def test_a_time_zone_that_does_not_exist_is_refused_with_a_clear_message(app):
    from wizard.extensions import db
    from wizard.models import Workspace

    world = _world_with_notification(app, "Europe/London")
    admin = app.test_client()
    login(admin, world.emails["admin"])
    for typed, message in (
        ("Mars/Olympus_Mons", "“Mars/Olympus_Mons” is not a time zone we know."),
        ("GMT+25", "“GMT+25” is not a time zone we know."),
        ("   ", "Enter a time zone, for example Pacific/Auckland"),
    ):
        page = admin.post("/settings/workspace", data={"time_zone": typed})
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and message in html, typed
        assert 'aria-invalid="true"' in html and 'aria-describedby="time_zone-help time_zone-error"' in html
    with app.app_context():
        assert db.session.get(Workspace, world.workspace_a).time_zone == "Europe/London"


def test_a_viewer_cannot_change_the_time_zone(app):
    world = _world_with_notification(app, None)
    viewer = app.test_client()
    login(viewer, world.emails["viewer"])
    assert viewer.post("/settings/workspace", data={"time_zone": "Europe/Paris"}).status_code == 403
    assert "/settings/workspace" not in viewer.get("/data").get_data(as_text=True)
