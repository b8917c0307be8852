"""The public troubleshooting page and the hint catalogue."""

from __future__ import annotations

from wizard.hints import HINTS, hint_for

REQUIRED_CAUSES = {
    "access_denied",
    "role_cannot_connect",
    "mfa_not_completed",
    "popup_blocked",
    "state_invalid",
    "connection_limit",
    "already_connected",
    "no_organisations",
    "xero_unavailable",
    "organisation_offline",
    "token_exchange_failed",
}


def test_catalogue_covers_every_cause_with_title_cause_and_action():
    assert REQUIRED_CAUSES <= set(HINTS)
    for hint in HINTS.values():
        assert hint.title and hint.cause and hint.action


def test_unknown_cause_falls_back_to_a_generic_hint():
    assert hint_for("something_new").code == "sync_failed"
    assert hint_for("") is None


def test_help_page_is_public_and_lists_every_hint(client):
    html = client.get("/help/xero").get_data(as_text=True)
    for code in HINTS:
        assert f'id="{code}"' in html


def test_help_page_search_by_error_code(client):
    html = client.get("/help/xero?q=state_invalid").get_data(as_text=True)
    assert 'id="state_invalid"' in html and 'id="access_denied"' not in html
    assert "No help matches" in client.get("/help/xero?q=%3Cscript%3E").get_data(as_text=True)
    assert "<script>" not in client.get("/help/xero?q=%3Cscript%3E").get_data(as_text=True)
