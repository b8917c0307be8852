"""Issue 11 item 5: ids and numbers from requests are parsed in one place (wizard.request_numbers).

Every route of the url_map, with a 30-digit id (overflows SQLite's INTEGER) or '²' (passes
str.isdigit(), fails int()) in place of each id, answers 404 for every persona: never a 500.
"""

from __future__ import annotations

import re

import pytest

from tests.support_access.world import build_world, login
from wizard.request_numbers import MAX_ID, IdConverter, _regex_for_1_to, parse_id, whole_number

BAD_IDS = {
    "thirty_digits": "9" * 30,
    "one_past_the_largest_id": str(MAX_ID + 1),
    "superscript_two": "%C2%B2",  # '²' as a browser sends it
    "arabic_indic_digits": "%D9%A1%D9%A2",  # '١٢': int() accepts it, our ids do not
    "zero": "0",
}
NOT_IDS = {"filename"}


def _routes_with_ids(app) -> list[tuple[str, str]]:
    return sorted(
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.arguments - NOT_IDS
        for method in sorted(rule.methods & {"GET", "POST"})
    )


@pytest.mark.parametrize("bad", sorted(BAD_IDS), ids=sorted(BAD_IDS))
def test_every_route_answers_404_for_an_id_out_of_range_or_not_ascii(app, bad):
    with app.app_context():
        world = build_world()
    routes = _routes_with_ids(app)
    assert len(routes) >= 20, "the url_map lost its id routes?"
    for persona in ("admin", "support"):
        client = app.test_client()
        login(client, world.emails[persona])
        for rule, method in routes:
            url = re.sub(r"<[^>]+>", BAD_IDS[bad], rule)
            response = client.open(url, method=method)
            assert response.status_code == 404, f"{persona} {method} {url} answered {response.status_code}"


def test_every_id_in_a_url_uses_the_id_converter(app):
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if name.endswith("_id"):
                assert type(converter).__name__ == "IdConverter", f"{rule.rule}: <{name}> is not <id:{name}>"


def test_a_good_id_still_reaches_the_page(app):
    with app.app_context():
        world = build_world()
    client = app.test_client()
    login(client, world.emails["admin"])
    page = client.get(f"/data/connections/{world.connections['active']}")
    assert page.status_code == 200 and "Acme Active Ltd" in page.get_data(as_text=True)
    assert client.get(f"/data/connections/0{world.connections['active']}").status_code == 404  # one spelling per id


def test_a_bad_reconnect_id_in_the_query_is_not_a_500(app):
    with app.app_context():
        world = build_world()
    client = app.test_client()
    login(client, world.emails["admin"])
    for bad in BAD_IDS.values():
        response = client.get(f"/connect/xero/authorize?reconnect={bad}")
        assert response.status_code < 500, bad


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        (" 42 ", 42),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("9" * 30, None),
        ("²", None),
        ("١٢", None),
        ("-1", None),
        ("+1", None),
        ("1_000", None),
        ("", None),
        (None, None),
        ("0", None),
    ],
)
def test_parse_id_takes_ascii_digits_within_bounds_only(text, expected):
    assert parse_id(text) == expected


@pytest.mark.parametrize("maximum", [1, 9, 10, 99, 100, 12345, 20000])
def test_the_id_regex_matches_exactly_1_to_its_maximum(maximum):
    pattern = re.compile(_regex_for_1_to(maximum))
    matched = [n for n in range(0, maximum * 3 + 20) if pattern.fullmatch(str(n))]
    assert matched == list(range(1, maximum + 1))
    assert re.fullmatch(IdConverter.regex, str(MAX_ID)) and not re.fullmatch(IdConverter.regex, str(MAX_ID + 1))


def test_whole_number_keeps_to_its_bounds():
    assert whole_number("168", 1, 168) == 168
    assert whole_number("169", 1, 168) is None
    assert whole_number("0", 1, 168) is None
