"""GET /readyz: the load balancer's check that a web process reaches PostgreSQL and Redis."""

from __future__ import annotations


def test_ready_when_database_and_redis_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"database": "ok", "redis": "ok"}


def test_not_ready_when_redis_is_unreachable(app):
    from wizard import create_app

    cut_off = create_app({"TESTING": True, "REDIS_URL": "redis://127.0.0.1:1/0"})
    response = cut_off.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"database": "ok", "redis": "unreachable"}
