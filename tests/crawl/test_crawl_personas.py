"""Issue 12, "how we test from now on": per persona, from the Data page, follow every link and
submit every form with every choice, on a workspace with a connection in every lifecycle state.

Fails on any 5xx, any Werkzeug default page, any page without the app's layout, and any whole
document answering an htmx request. The paths visited are written to test-output/crawl/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.crawl.crawler import Crawl
from tests.crawl.world import build_lifecycle_world
from tests.support_access.world import PASSWORD

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "crawl"
PERSONAS = {
    "anonymous": None,
    "admin": "admin",
    "viewer": "viewer",
    "other_workspace_admin": "other_admin",
    "support_with_active_grant": "support",
    "support_without_grant": "support",
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_crawl_every_path_of_a_persona_ends_on_an_app_page(app, persona):
    # As in production: real CSRF tokens (taken from each form) and exceptions become 500 pages.
    app.config.update(WTF_CSRF_ENABLED=True, PROPAGATE_EXCEPTIONS=False)
    with app.app_context():
        world = build_lifecycle_world(support_grant=persona != "support_without_grant")
    client = app.test_client()
    account = PERSONAS[persona]
    if account:
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        response = client.post(
            "/login", data={"email": world.emails[account], "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 303
    # Personas outside workspace A also try A's pages by address, as someone with an old link would.
    outsider = persona not in ("admin", "viewer")
    foreign = [f"/data/connections/{c}" for c in world.connections.values()] if outsider else []
    crawl = Crawl(client, max_requests=700).run("/data", *foreign)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / f"{persona}.txt").write_text(
        f"{len(crawl.visited)} requests\n"
        + "\n".join(crawl.visited)
        + "\n\nskipped (external):\n"
        + "\n".join(sorted(crawl.skipped_external))
        + "\n"
    )
    assert not crawl.problems, f"{persona}: {len(crawl.problems)} problem(s):\n" + "\n".join(crawl.problems[:40])
    assert len(crawl.visited) > 5
