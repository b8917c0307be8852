"""Issue 11 item 9: the instance folder is 0700 and the files the app creates in it 0600, whatever
the umask; an older world-readable instance folder is tightened at start."""

from __future__ import annotations

import os
import stat

import pytest

from wizard import create_app
from wizard.extensions import db


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)  # the usual default, which made wizard.db 0644
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _app_in(folder, monkeypatch):
    monkeypatch.setenv("WIZARD_INSTANCE_PATH", str(folder))
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": None, "TOKEN_ENCRYPTION_KEY": None})


def test_a_new_instance_folder_and_its_files_are_private(test_env, tmp_path, monkeypatch, loose_umask):
    folder = tmp_path / "instance"
    app = _app_in(folder, monkeypatch)
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    assert _mode(folder) == 0o700
    assert _mode(folder / "wizard.db") == 0o600
    assert _mode(folder / "token.key") == 0o600


def test_an_old_world_readable_instance_is_tightened(test_env, tmp_path, monkeypatch, loose_umask):
    folder = tmp_path / "instance"
    folder.mkdir(mode=0o755)
    (folder / "wizard.db").write_bytes(b"")
    (folder / "wizard.db").chmod(0o644)
    _app_in(folder, monkeypatch)
    assert _mode(folder) == 0o700
    assert _mode(folder / "wizard.db") == 0o600
