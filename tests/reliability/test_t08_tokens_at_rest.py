"""T-08: after connecting, the token columns hold no plaintext; the configured key decrypts them;
a ciphertext copied into another row (or the other column) does not decrypt."""

from __future__ import annotations

import requests
from sqlalchemy import select, text

from tests.reliability.flows import connect_via_wizard, stored_tokens


def test_t08_tokens_are_encrypted_bound_to_their_row_and_round_trip(app, auth, client, sandbox):
    from wizard.extensions import db
    from wizard.models import TokenSet, Workspace
    from wizard.xero.tokens import decrypt_access, decrypt_refresh

    auth.as_new("admin")
    connect_via_wizard(app, client, sandbox)
    access, refresh = stored_tokens(app)
    with app.app_context():
        raw = db.session.execute(text("SELECT access_token_enc, refresh_token_enc FROM token_set")).one()
        for column in raw:
            blob = bytes(column)
            for secret in (access, refresh):
                assert secret.encode() not in blob and secret[:24].encode() not in blob
        # The decrypted access token is the live one: Xero accepts it.
        listed = requests.get(
            app.config["XERO_API_URL"] + "/connections", headers={"Authorization": f"Bearer {access}"}, timeout=10
        )
        assert listed.status_code == 200 and listed.json()

        original = db.session.scalars(select(TokenSet)).one()
        other_workspace = Workspace(name="Mallory Ltd")
        db.session.add(other_workspace)
        db.session.flush()
        copy = TokenSet(
            workspace_id=other_workspace.id,
            xero_userid="mallory",
            access_expires_at=original.access_expires_at,
            access_token_enc=original.access_token_enc,
            refresh_token_enc=original.refresh_token_enc,
        )
        db.session.add(copy)
        db.session.commit()
        for decrypt in (decrypt_access, decrypt_refresh):
            try:
                decrypt(copy)
            except ValueError:
                continue
            raise AssertionError(f"{decrypt.__name__} decrypted a ciphertext copied from another row")
        swapped = TokenSet(
            workspace_id=original.workspace_id,
            xero_userid=original.xero_userid,
            access_expires_at=original.access_expires_at,
            access_token_enc=original.refresh_token_enc,
            refresh_token_enc=original.access_token_enc,
        )
        for decrypt in (decrypt_access, decrypt_refresh):
            try:
                decrypt(swapped)
            except ValueError:
                continue
            raise AssertionError(f"{decrypt.__name__} decrypted the other column's ciphertext")
        assert decrypt_access(original) == access and decrypt_refresh(original) == refresh
