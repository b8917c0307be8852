"""The one full-page-or-fragment decision."""

from __future__ import annotations

import pytest
from flask import Flask

from wizard.htmx import wants_fragment


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, False),
        ({"HX-Request": "true"}, True),
        ({"HX-Request": "true", "HX-Request-Type": "partial"}, True),
        ({"HX-Request": "true", "HX-Request-Type": "full"}, False),
        ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, False),
        ({"HX-Request": "true", "HX-Boosted": "true"}, False),
        ({"HX-Request": "false"}, False),
    ],
)
def test_wants_fragment_only_for_partial_htmx_requests(headers, expected):
    app = Flask(__name__)
    with app.test_request_context(headers=headers):
        assert wants_fragment() is expected
