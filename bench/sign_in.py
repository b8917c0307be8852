"""Sign-in timing: a wrong password for a known account against an unknown account (issue 11 item 4).

Prints the median time of each, through the real view on an embedded SQLite database, and their
ratio (about 1.0 when an unknown account costs the same hash check as a known one). Never asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _ms(client, email: str) -> float:
    start = time.perf_counter()
    response = client.post("/login", data={"email": email, "password": "not-the-password"})
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 401:
        raise SystemExit(f"sign-in answered {response.status_code}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-sign-in-"))
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
            "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "WIZARD_INSTANCE_PATH": str(tmp / "instance"),
        }
    )
    from wizard import create_app
    from wizard.extensions import db
    from wizard.models import User, Workspace

    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.create_all()
        workspace = Workspace(name="Bench")
        db.session.add(workspace)
        db.session.flush()
        user = User(email="known@bench.test", name="known", role="admin", workspace_id=workspace.id)
        user.set_password("the-password")  # the hash every real account gets
        db.session.add(user)
        db.session.commit()
    client = app.test_client()
    _ms(client, "warm-up@bench.test")
    # Alternate the two, so that a busy machine slows both alike.
    pairs = [(_ms(client, "known@bench.test"), _ms(client, "unknown@bench.test")) for _ in range(args.rounds)]
    known = statistics.median(k for k, _ in pairs)
    unknown = statistics.median(u for _, u in pairs)
    print(f"bench/sign_in.py: {args.rounds} wrong sign-ins each, median per request")
    print(f"  known account, wrong password: {known:8.1f} ms")
    print(f"  unknown account:               {unknown:8.1f} ms")
    print(f"  unknown / known:               {unknown / known:8.2f}")


if __name__ == "__main__":
    main()
