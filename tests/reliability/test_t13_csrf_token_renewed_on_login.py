"""T-13: the CSRF token differs before and after login. (Session cookie renewed, pre-login keys
gone, old cookie dead after logout: tests/security/test_web_security.py::
test_t13_session_is_renewed_on_login_and_dead_after_logout.)"""

from __future__ import annotations

import re

from wizard import create_app


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_t13_csrf_token_changes_at_login_and_the_old_one_stops_working(app, auth, test_env):
    auth.make_user()
    csrf_app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False})
    client = csrf_app.test_client()
    before = _csrf(client.get("/login").get_data(as_text=True))
    with client.session_transaction() as s:
        raw_before = s["csrf_token"]
    response = client.post("/login", data={"email": "admin@example.test", "password": "pw", "csrf_token": before})
    assert response.status_code == 303
    with client.session_transaction() as s:
        assert s.get("csrf_token") != raw_before
    after = _csrf(client.get("/data").get_data(as_text=True))
    assert after != before
    # The pre-login token no longer authorises a state change.
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400
    assert client.post("/logout", data={"csrf_token": after}).status_code == 303
