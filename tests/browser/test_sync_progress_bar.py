"""The progress bar in Chromium (issue 12 item 5): what the admin sees while data types remain."""

from __future__ import annotations

import pytest

from tests.browser.flows import sign_in
from tests.helpers.connections import syncing_with_streams

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_progress_bar_is_not_full_while_data_types_remain(app, auth, live_server, browser, shots):
    from wizard.models import StreamProgress

    auth.make_user()
    streams = [StreamProgress(stream="Contacts", state="done", done=87, total=87, calls=1, page_size=1000)]
    streams += [StreamProgress(stream=f"Type{n}", position=n + 1, page_size=1000) for n in range(12)]
    connection_id = syncing_with_streams(app, streams, records=87)
    page, base = browser.new_page(), live_server.url
    sign_in(page, base)
    row = page.locator("table.connections tbody tr").first
    assert "1 of 13 data types done" in row.inner_text()
    assert int(row.locator("progress").get_attribute("value")) < 10
    page.goto(f"{base}/data/connections/{connection_id}")
    bar = page.get_by_label("Overall sync progress")
    status = page.locator(".sync-status").inner_text()
    assert int(bar.get_attribute("value")) < 10 and bar.get_attribute("max") == "100"
    assert "1 of 13 data types done" in status and "87 records received so far" in status
    assert "87 of 87" not in status
    page.screenshot(path=str(shots / "progress-while-types-remain.png"))
