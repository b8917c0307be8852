"""The least any signed-in page of this stack does, served beside the app by bench/web.py.

Decode the session cookie, Flask-Login with strong session protection, the user from the database in
one SQLAlchemy query, a small Jinja template with a nav of links and a CSRF-style hidden field. The
app's pages are read against it: what is above it is ours; what is below it is the stack's.
"""

from __future__ import annotations

import hmac
import os
import sqlite3

from flask import Flask, render_template, session
from flask_login import LoginManager, UserMixin, login_required, login_user
from jinja2 import DictLoader
from sqlalchemy import create_engine, text

DB = os.environ.get("FLOOR_DB", "floor.db")
with sqlite3.connect(DB) as con:
    con.execute("CREATE TABLE IF NOT EXISTS user (id INTEGER PRIMARY KEY, email TEXT, workspace_id INT)")
    con.execute("INSERT OR REPLACE INTO user VALUES (1, 'admin@demo.test', 1)")
engine = create_engine(f"sqlite:///{DB}")
PAGE = """<!doctype html><html lang="en"><title>Floor</title>
<nav>{% for _ in range(6) %}<a href="{{ url_for('page') }}">Link</a>{% endfor %}</nav>
<main><h1>Signed in as {{ current_user.email }}</h1>
<form method="post"><input type="hidden" name="csrf_token" value="{{ token }}"></form></main></html>"""
app = Flask(__name__)
app.secret_key = "signed-in-floor-" + "x" * 32
app.jinja_loader = DictLoader({"page.html": PAGE})  # compiled once, as the app's templates are
login = LoginManager(app)
login.session_protection = "strong"


class User(UserMixin):
    def __init__(self, user_id: int, email: str, workspace_id: int) -> None:
        self.id, self.email, self.workspace_id = user_id, email, workspace_id


@login.user_loader
def load(user_id: str) -> User | None:
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT id, email, workspace_id FROM user WHERE id = :id"), {"id": int(user_id)}
        ).first()
    return User(*row) if row else None


@app.get("/sign-in")
def sign_in() -> str:
    login_user(User(1, "admin@demo.test", 1))
    return "signed in"


@app.get("/")
@login_required
def page() -> str:
    token = session.setdefault("csrf", hmac.new(b"key", b"csrf", "sha256").hexdigest())
    return render_template("page.html", token=token)
