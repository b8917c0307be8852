"""T-14: in production every HTML response (pages, fragments, error pages) carries the CSP with
object-src/base-uri/frame-ancestors 'none', HSTS of at least a year and nosniff. (Cookie flags
and one page: tests/security/test_web_security.py::test_t14_cookie_flags_and_security_headers_in_production.)"""

from __future__ import annotations

import re

from tests.security.test_web_security import PRODUCTION
from tests.support_access.world import PASSWORD, build_world
from wizard import create_app

HTTPS = "https://app.example.com"


def _check(response, where: str) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp, f"{where}: CSP lacks {directive}"
    hsts = re.search(r"max-age=(\d+)", response.headers.get("Strict-Transport-Security", ""))
    assert hsts and int(hsts.group(1)) >= 31536000, f"{where}: HSTS"
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") in ("no-referrer", "same-origin", "strict-origin"), where


def test_t14_every_html_response_in_production_has_csp_hsts_and_nosniff(app, test_env, monkeypatch):
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    with app.app_context():
        world = build_world()
    prod = create_app({**PRODUCTION, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    values = {
        "connection_id": world.connections["active"],
        "grant_id": world.grants["active"],
        "run_id": world.runs["active"],
        "filename": "css/app.css",
    }
    checked = 0
    for persona in (None, "admin", "support"):
        client = prod.test_client()
        if persona:
            response = client.post(
                "/login", data={"email": world.emails[persona], "password": PASSWORD}, base_url=HTTPS
            )
            assert response.status_code == 303
        for rule in prod.url_map.iter_rules():
            if "GET" not in rule.methods:
                continue
            with prod.test_request_context():
                url = rule.build({k: values.get(k, 1) for k in rule.arguments}, append_unknown=False)[1]
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(url, base_url=HTTPS, headers=headers)
                if response.mimetype == "text/html":
                    _check(response, f"{persona} GET {url} {headers}")
                    checked += 1
        _check(client.get("/no-such-page", base_url=HTTPS), "404 page")
    assert checked >= 30
