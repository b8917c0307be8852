"""Names that come from Xero are data, never markup: an organisation called
`<script>alert(1)</script> & "Co"` (and a contact with a script in its name) shows escaped on
every page that shows it: the wizard's steps, the Data page, the books views and support's
console and connection doctor."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from tests.conftest import REDIRECT_URI, WorkerProcess
from tests.helpers.xero_login import XeroBrowser
from tests.reliability.flows import ADVISER, callback
from tests.sync.helpers import wait_for_run

NAME = '<script>alert(1)</script> & "Co"'
CONTACT = "<img src=x onerror=alert(2)> Ltd"
RAW = ("<script>alert(1)", "<img src=x onerror", 'alert(1)</script> & "Co"')


def _page(client, url: str, **kwargs) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response.get_data(as_text=True)


def _assert_escaped(html: str, where: str, shows_name: bool = True) -> None:
    for raw in RAW:
        assert raw not in html, f"{where} shows {raw!r} unescaped"
    if shows_name:
        assert str(escape(NAME)) in html, f"{where} does not show the organisation's name (escaped)"


@pytest.mark.slow
def test_html_in_xero_names_is_escaped_on_every_page(app, auth, client, sandbox, test_env, tmp_path):
    from wizard.extensions import db
    from wizard.models import Connection

    tenant_id = sandbox.state.create_org(NAME, records=120, users={ADVISER: "adviser"})
    books = sandbox.state.books(tenant_id)
    with books.lock:
        books.contacts[0].name = CONTACT
        books.changed("contacts", [0])
    auth.as_new("admin")
    auth.make_user("support@example.test", role="support")

    url = client.get("/connect/xero/authorize").headers["Location"]
    consented = XeroBrowser().authorize(url, ADVISER, redirect_prefix=REDIRECT_URI, organisations=[NAME])
    assert consented, "the sandbox consent page did not list the organisation"
    assert callback(client, consented).status_code == 303
    for htmx in ({}, {"HX-Request": "true"}):
        _assert_escaped(_page(client, "/connect/xero/organisations", headers=htmx), "step 3 organisations")
    organisations = _page(client, "/connect/xero/organisations")
    chosen = re.search(r'name="tenant_id" value="([^"]+)"', organisations).group(1)
    assert chosen == tenant_id
    client.post("/connect/xero/organisations", data={"tenant_id": chosen})
    _assert_escaped(_page(client, "/connect/xero/confirm"), "step 3 confirm")
    complete = client.post("/connect/xero/connections").headers["Location"]
    with app.app_context():
        connection_id = db.session.scalar(db.select(Connection.id).where(Connection.tenant_id == tenant_id))
    worker = WorkerProcess(test_env, tmp_path / "worker.log").start()
    try:
        with app.app_context():
            from wizard import syncing

            assert wait_for_run(app, syncing.latest_run(connection_id).id) == "succeeded"
    finally:
        worker.stop()

    pages = [
        complete,
        "/data",
        "/data/rows",
        f"/data/connections/{connection_id}",
        f"/data/connections/{connection_id}/status",
        f"/data/connections/{connection_id}/disconnect",
        f"/connect/xero/reconnect/{connection_id}",
        f"/books/{connection_id}",
        f"/books/{connection_id}/accounts",
        f"/books/{connection_id}/profit-and-loss",
        f"/books/{connection_id}/reconciliation",
        "/settings/support-access",
    ]
    for page in pages:
        _assert_escaped(_page(client, page), page)
        # Fragments (polling status, rows) need not repeat the name; they must not show it raw either.
        _assert_escaped(_page(client, page, headers={"HX-Request": "true"}), f"{page} (htmx)", shows_name=False)
    assert (
        client.post(
            "/settings/support-access", data={"scope": "all", "hours": "24", "reason": "<b>help</b>"}
        ).status_code
        == 303
    )

    staff = app.test_client()
    assert staff.post("/login", data={"email": "support@example.test", "password": "pw"}).status_code == 303
    _assert_escaped(_page(staff, "/support", query_string={"q": "script"}), "support console")
    _assert_escaped(_page(staff, f"/support/connections/{connection_id}"), "connection doctor")

    client.post(f"/data/connections/{connection_id}/disconnect", data={"data": "keep"})
    _assert_escaped(_page(client, "/data"), "Data page flash after disconnect")
