"""The instance folder holds password hashes, sign-in tokens and (in development) the token key:
only the account that runs the app may read it (folder 0700, files 0600), issue 11 item 9."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url


def secure_instance_folder(folder: str) -> None:
    """Create the folder 0700; tighten it, and the files in it, if an older run left them readable."""
    path = Path(folder)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(path, 0o700)
    for entry in path.iterdir():
        if entry.is_file() and not entry.is_symlink():
            _tighten(entry, 0o600)


def create_private_sqlite_file(database_uri: str) -> None:
    """SQLite creates its file with the process umask (usually 0644): create it 0600 first.

    SQLite gives its journal and WAL files the database file's permissions.
    """
    url = make_url(database_uri)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    path = Path(url.database)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        _tighten(path, 0o600)
    else:
        os.close(fd)


def _tighten(path: Path, mode: int) -> None:
    info = path.stat()
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & ~mode:
        path.chmod(mode)
