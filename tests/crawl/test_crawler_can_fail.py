"""The crawler must be able to fail: on a tiny app with the faults it looks for, it reports each one."""

from __future__ import annotations

from flask import Flask, abort

from tests.crawl.crawler import Crawl

LAYOUT_PAGE = '<html><header class="topbar"></header>{}</html>'


def _faulty_app() -> Flask:
    app = Flask(__name__)

    @app.get("/data")
    def data():
        links = '<a href="/broken">b</a><a href="/gone">g</a><a href="/bare">x</a><a href="https://xero.example/">X</a>'
        form = '<form method="post" action="/choose"><input type="radio" name="data" value="keep">'
        form += '<input type="radio" name="data" value="delete"></form><div hx-get="/fragment"></div>'
        return LAYOUT_PAGE.format(links + form)

    @app.get("/broken")
    def broken():
        raise RuntimeError("boom")

    @app.get("/gone")
    def gone():
        abort(404)

    @app.get("/bare")
    def bare():
        return "<p>no layout</p>"

    @app.post("/choose")
    def choose():
        from flask import request

        if request.form.get("data") == "delete":
            raise ImportError("cannot import name 'delete_connection_data'")
        return LAYOUT_PAGE.format("kept")

    @app.get("/fragment")
    def fragment():
        return LAYOUT_PAGE.format("a whole page for htmx")

    return app


def test_the_crawler_reports_5xx_werkzeug_pages_missing_layout_and_documents_for_htmx():
    crawl = Crawl(_faulty_app().test_client()).run("/data")
    problems = "\n".join(crawl.problems)
    assert "GET /broken: 500" in problems
    assert "GET /gone: Werkzeug's default page (404)" in problems
    assert "GET /bare: page without the app's layout (200)" in problems
    assert "POST /choose data=delete: 500" in problems and "POST /choose data=keep" not in problems
    assert "GET /fragment (htmx): a whole document answered an htmx request" in problems
    assert "https://xero.example/" in crawl.skipped_external
    assert "POST /choose" in crawl.visited  # the form sent with no choice as well
