"""Every wizard step URL and every wizard POST answers a full page to a normal request and the
step's fragment to an htmx request, always with `Vary: HX-Request` (conventions rule 3)."""

from __future__ import annotations

import pytest

from tests.test_connect_flow import ADVISER, _radio_values, callback, xero_login

# mode -> (request headers, whether the answer must be the full page)
MODES = {
    "normal request": ({}, True),
    "htmx 2": ({"HX-Request": "true"}, False),
    "htmx 4 partial": ({"HX-Request": "true", "HX-Request-Type": "partial"}, False),
    "htmx 4 full (boosted or hx-select)": ({"HX-Request": "true", "HX-Request-Type": "full"}, True),
    "history restore": ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, True),
}


def assert_rendered(response, full: bool, wizard: bool = True) -> str:
    """200, the layout only on a full page, the step's own heading either way, and Vary."""
    body = response.get_data(as_text=True)
    assert response.status_code == 200, (response.status_code, body[:300])
    assert ("<html" in body) is full, body[:300]
    if wizard:
        assert ('<main id="wizard"' in body) is full
    assert "<h1" in body or "<h2" in body, body[:300]
    assert "HX-Request" in response.headers.get("Vary", ""), response.headers
    return body


@pytest.mark.parametrize("mode", MODES)
def test_every_step_and_post_answers_a_full_page_or_the_fragment(app, auth, client, sandbox, mode):
    headers, full = MODES[mode]
    auth.as_new("admin")
    # Step 1 and step 2, with and without a problem to explain.
    for path in ("/connect/xero", "/connect/xero?problem=access_denied", "/connect/xero/login"):
        assert_rendered(client.get(path, headers=headers), full)
    assert_rendered(client.get("/connect/xero/login?problem=popup_blocked", headers=headers), full)
    # The Xero login itself is a full-page hop (rule 7), whatever the mode.
    assert callback(client, xero_login(client, sandbox, ADVISER)).status_code == 303

    # Step 3: the list, a POST with no choice (re-rendered with its message), a good POST (303).
    page = assert_rendered(client.get("/connect/xero/organisations", headers=headers), full)
    refused = client.post("/connect/xero/organisations", data={"tenant_id": ""}, headers=headers)
    assert "Choose an organisation to connect." in assert_rendered(refused, full)
    chosen = client.post("/connect/xero/organisations", data={"tenant_id": _radio_values(page)[0]}, headers=headers)
    assert chosen.status_code == 303 and chosen.headers["Location"] == "/connect/xero/confirm"
    assert "Connect organisation" in assert_rendered(client.get("/connect/xero/confirm", headers=headers), full)

    # Step 3 done: the POST redirects to step 4.
    created = client.post("/connect/xero/connections", headers=headers)
    assert created.status_code == 303 and created.headers["Location"].startswith("/connect/xero/complete/")
    complete = created.headers["Location"]
    connection_id = int(complete.rsplit("/", 1)[-1])
    assert_rendered(client.get(complete, headers=headers), full)
    # The same POST again, with nothing chosen any more, re-renders step 3 with the reason.
    assert_rendered(client.post("/connect/xero/connections", headers=headers), full)

    # Reconnect's step 1, and the self-polling sync status (rule 10: a full page on a normal GET).
    assert_rendered(client.get(f"/connect/xero/reconnect/{connection_id}", headers=headers), full)
    status = client.get(f"/data/connections/{connection_id}/status", headers=headers)
    assert_rendered(status, full, wizard=False)
