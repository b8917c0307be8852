"""The invariants every fault must leave intact: runs ended in the ledger, rows exact, no key
twice, no token or secret in any log."""

from __future__ import annotations

import re

from tests.conftest import CLIENT_SECRET
from tests.sync.helpers import SANDBOX_STREAMS, assert_row_counts_match, sandbox_ids, stored_ids

FINISHED = ("succeeded", "failed")


def secrets_seen(app, sandbox) -> list[str]:
    """Every token value a log must never contain: the stored pair, every refresh token the sandbox
    ever issued, and the client secret."""
    from sqlalchemy import select

    from wizard.extensions import db
    from wizard.models import TokenSet
    from wizard.xero.tokens import decrypt_access, decrypt_refresh

    values = [CLIENT_SECRET]
    with app.app_context():
        for token_set in db.session.scalars(select(TokenSet)):
            values.append(decrypt_access(token_set))
            if token_set.refresh_token_enc:
                values.append(decrypt_refresh(token_set))
    with sandbox.state.store.lock:
        values += list(sandbox.state.store.refresh_tokens)
    return [v for v in values if v]


def assert_no_secret_in(text: str, secrets: list[str]) -> None:
    leaked = [s[:8] + "..." for s in secrets if s in text]
    assert not leaked, f"secret values in the logs: {leaked}"
    # Any JWT at all (access and id tokens are JWTs) or an Authorization header value.
    assert not holds_jwt(text) and "Bearer " not in text


# A JWT's header is base64url JSON ("eyJ...") followed by a dot. A bare "eyJ" is not enough: random
# values in the logs (state, nonce, PKCE challenge: 43 base64url characters) contain it by chance.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.")


def holds_jwt(text: str) -> bool:
    return bool(_JWT.search(text))


def assert_runs_finished(app, run_ids) -> dict[int, str]:
    """Every run ended in the database ledger: succeeded or failed, none queued/running/paused."""
    from wizard.extensions import db
    from wizard.models import SyncRun

    with app.app_context():
        db.session.expire_all()
        states = {run_id: db.session.get(SyncRun, run_id).state for run_id in run_ids}
    assert all(state in FINISHED for state in states.values()), states
    return states


def assert_rows_exact(app, sandbox, org) -> None:
    """The mirror holds exactly the sandbox's records, each once."""
    for sandbox_stream, (ours, _key) in SANDBOX_STREAMS.items():
        stored = set(stored_ids(app, org.connection_id, ours))
        assert stored == sandbox_ids(sandbox, org.tenant_id, sandbox_stream), ours
    assert_row_counts_match(app, sandbox, org)
