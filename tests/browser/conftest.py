"""Fixtures of the browser tests."""

from __future__ import annotations

import pytest

from tests.browser.flows import sign_in


@pytest.fixture
def admin_page(auth, live_server, browser):
    """Chromium, signed in as a workspace admin, on the Data page."""
    auth.make_user()
    page = browser.new_page()
    sign_in(page, live_server.url)
    return page
