"""Support's request form: required reason, 1-14 days, least-privilege role by default, and a
justification whenever more is asked. Bad input: a message next to the field, values kept."""

from __future__ import annotations

import re

import pytest

from tests.xero_access.conftest import VALID, audit_actions, guide_url, support_url


def _error(page: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page)
    return match.group(1) if match else ""


def test_doctor_links_to_the_request_page_which_defaults_to_standard_for_3_days(as_persona, world):
    support = as_persona("support")
    doctor = support.get(f"/support/connections/{world.connections['active']}")
    assert support_url(world) in doctor.get_data(as_text=True)
    page = support.get(support_url(world)).get_data(as_text=True)
    assert re.search(r'id="role-standard" name="role" value="standard" checked', page)
    assert 'name="days" min="1" max="14" step="1" value="3"' in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"reason": "   "},
            "reason",
            "Say why support needs to look inside Xero itself.",
        ),
        ({"days": "0"}, "days", "Choose from 1 to 14 days."),
        ({"days": "15"}, "days", "Choose from 1 to 14 days."),
        ({"days": "two"}, "days", "Choose from 1 to 14 days."),
        ({"days": "²"}, "days", "Choose from 1 to 14 days."),
        ({"days": "9" * 30}, "days", "Choose from 1 to 14 days."),
        ({"role": "payroll_admin"}, "role", "Choose one of the Xero roles listed."),
        (
            {"role": "adviser", "role_justification": " "},
            "role_justification",
            ("Adviser gives more than Standard, with the Reports permission: say why the smaller role is not enough."),
        ),
    ],
)
def test_bad_input_shows_the_message_by_the_field_and_keeps_the_values(app, world, as_persona, fields, field, message):
    support = as_persona("support")
    typed = {**VALID, "reason": "Ticket #7002 & <b>bold</b>", **fields}
    response = support.post(support_url(world), data=typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in page
    assert _error(page, field) == message.replace("&", "&amp;")
    assert re.search(rf'aria-describedby="[^"]*{field}-error"', page)
    assert "Ticket #7002 &amp; &lt;b&gt;bold&lt;/b&gt;" in page or field == "reason"
    assert f'value="{typed["days"]}"' in page
    if typed["role"] in ("standard", "adviser", "read_only"):
        assert f'value="{typed["role"]}" checked' in page
    assert audit_actions(app, world.connections["active"])[-1][:2] == (
        "xero_access.requested",
        False,
    )
    assert as_persona("admin").get(guide_url(world)).status_code == 200
    assert b"has not asked for access" in as_persona("admin").get(guide_url(world)).data


def test_bad_input_under_htmx_answers_the_fragment(world, as_persona):
    response = as_persona("support").post(
        support_url(world), data={**VALID, "reason": ""}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and b"<html" not in response.data
    assert b'id="reason-error"' in response.data


def test_adviser_with_a_justification_and_read_only_without_one_are_accepted(app, world, flow):
    assert flow.ask(role="adviser", role_justification="Need to see lock dates").status_code == 303
    assert (flow.request.role, flow.request.role_justification) == (
        "adviser",
        "Need to see lock dates",
    )
    flow.admin_does("decline")
    assert flow.ask(role="read_only").status_code == 303
    assert flow.request.role == "read_only" and flow.request.role_justification == ""


def test_the_admin_sees_the_role_the_justification_and_what_support_will_not_do(world, flow):
    flow.ask(role="adviser", role_justification="Need to see lock dates", days="14")
    page = flow.admin.get(guide_url(world)).get_data(as_text=True)
    assert "Grant temporary access to Xero" in page
    assert "Adviser" in page and "Need to see lock dates" in page and "14 days" in page
    assert "What support will and will not do" in page
    assert "Settings &gt; Users" in page and "Invite a user" in page
    assert "support@planwise.example" in page
    assert "Choose the role “Adviser”" in page


def test_the_support_user_email_comes_from_config(app, world, flow):
    app.config["SUPPORT_XERO_EMAIL"] = "xero-help@planwise.test"
    flow.ask()
    assert flow.request.support_email == "xero-help@planwise.test"
    assert "xero-help@planwise.test" in flow.admin.get(guide_url(world)).get_data(as_text=True)


@pytest.mark.parametrize("who", ["support", "admin"])
def test_pages_are_full_pages_and_htmx_fragments(world, flow, who):
    flow.ask()
    client, url = (flow.support, support_url(world)) if who == "support" else (flow.admin, guide_url(world))
    page = client.get(url)
    assert page.status_code == 200 and b"<html" in page.data
    assert page.headers["Cache-Control"] == "no-store"
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and b"<html" not in fragment.data
    assert b"Request #" in fragment.data and "HX-Request" in fragment.headers["Vary"]
