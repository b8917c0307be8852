"""Troubleshooting hints, keyed by cause. The wizard, the Data page, /help/xero and support's
connection doctor all show these same words."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hint:
    code: str  # shown to the user, searchable on /help/xero
    title: str
    cause: str
    action: str

    @property
    def anchor(self) -> str:
        return self.code.lower()


HINTS: dict[str, Hint] = {
    hint.code: hint
    for hint in (
        Hint(
            "access_denied",
            "Xero access was not granted",
            "Access was cancelled on Xero's consent screen, your Xero user is not allowed to "
            "connect apps to any organisation (only the Standard and Adviser roles can), or Xero "
            "said our app has reached its connection limit.",
            "Start again and choose Allow access. If Xero listed no organisation, ask a Xero user "
            "with the Standard or Adviser role (an Org Admin has Manage users too) to connect, or "
            "to change your role in Xero under Settings > Users.",
        ),
        Hint(
            "role_cannot_connect",
            "Your Xero role cannot connect apps",
            "Only Xero users with the Standard or Adviser role can connect an app to an "
            "organisation. Read only, Invoice only and Cashbook roles cannot.",
            "Ask someone who manages users in Xero to give you the Standard or Adviser role, or ask "
            "them to connect the organisation. Then start again.",
        ),
        Hint(
            "mfa_not_completed",
            "Xero sign-in was not finished",
            "The Xero window closed before Xero sent you back: usually the multi-factor "
            "authentication (MFA) code was not confirmed, or the window was closed during login "
            "or on the consent screen.",
            "Have your authenticator app ready, start again and enter the six-digit code Xero asks "
            "for. Lost your device? Use Xero's 'Can't use your authenticator app?' link first.",
        ),
        Hint(
            "window_closed",
            "The Xero window was closed before you finished",
            "The Xero window closed before Xero sent you back to us. It may have been closed on the "
            "password page, at the multi-factor authentication (MFA) step, or on the consent screen; "
            "we cannot tell which.",
            "Start again and finish in the Xero window until it closes by itself. If Xero asks for an "
            "MFA code, have your authenticator app ready.",
        ),
        Hint(
            "popup_blocked",
            "The Xero sign-in window was blocked or closed",
            "Your browser blocked the pop-up window for Xero, or it was closed before you finished.",
            "Allow pop-ups for this site and try again, or continue in this window instead.",
        ),
        Hint(
            "state_invalid",
            "This sign-in link has expired or was already used",
            "The answer from Xero did not match a sign-in started in this browser: it was used "
            "once already, it is more than 10 minutes old, or it came from another browser tab or "
            "session.",
            "Nothing was saved. Start the connection again from this page.",
        ),
        Hint(
            "connection_limit",
            "The app's Xero connection limit is reached",
            "Our Xero app has used all the organisation connections its Xero plan allows.",
            "Disconnect an organisation you no longer need, or contact us so we can raise the limit.",
        ),
        Hint(
            "already_connected",
            "This organisation is already connected",
            "The organisation you chose is already a data source in this workspace.",
            "Open the existing connection on the Data page. If it needs a new login, use Reconnect there.",
        ),
        Hint(
            "no_organisations",
            "No organisation was authorised",
            "Xero did not authorise any organisation in this sign-in. Usually your user has the "
            "Standard or Adviser role in no organisation, or none was ticked on the consent screen.",
            "Start again and tick an organisation on Xero's consent screen. If none is listed, ask "
            "for the Standard or Adviser role in Xero.",
        ),
        Hint(
            "xero_unavailable",
            "Xero is not answering right now",
            "Xero returned an error or could not be reached. This is usually brief.",
            "Wait a minute and try again. Xero's status page shows planned maintenance.",
        ),
        Hint(
            "organisation_offline",
            "This organisation is offline in Xero for a while",
            "Xero is moving or maintaining this organisation (it said 503 Organisation offline). "
            "It usually lasts a few minutes, up to about an hour.",
            "Nothing to do: the sync waits and continues by itself.",
        ),
        Hint(
            "token_exchange_failed",
            "We could not finish signing in to Xero",
            "Xero's sign-in came back, but exchanging it for access failed.",
            "Start again. If it keeps failing, tell us the time it happened.",
        ),
        Hint(
            "token_dead",
            "Xero needs you to log in again",
            "Xero no longer accepts this connection's login: it was unused for 60 days, revoked, "
            "or the Xero user lost access.",
            "An admin of this workspace uses Reconnect and logs in to Xero again; synced data is kept.",
        ),
        Hint(
            "disconnected_in_xero",
            "Disconnected in Xero",
            "This organisation was disconnected from our app inside Xero, or the Xero user who "
            "connected it was removed or lost the Standard/Adviser role.",
            "Use Reconnect and log in with a Xero user who has the Standard or Adviser role.",
        ),
        Hint(
            "insufficient_scope",
            "Xero did not grant all the access we need",
            "The connection was authorised without some of the permissions our sync uses.",
            "Use Reconnect and approve every permission on Xero's consent screen.",
        ),
        Hint(
            "rate_limited",
            "Xero's daily limit for this organisation is used up",
            "Xero allows a fixed number of calls per organisation per day; the sync pauses until the limit resets.",
            "Nothing to do: the sync continues by itself when Xero allows it.",
        ),
        Hint(
            "reconnect_wrong_organisation",
            "That login did not authorise this organisation",
            "To reconnect, Xero must authorise the same organisation this connection copies. The "
            "login you used authorised other organisations only, or a different Xero user.",
            "Start Reconnect again and tick this organisation on Xero's consent screen. To add a "
            "different organisation, use + on the Data page instead.",
        ),
        Hint(
            "sync_failed",
            "The sync stopped with an error",
            "Something unexpected went wrong while copying data from Xero.",
            "Use Sync now to try again. If it fails again, grant support access so we can look.",
        ),
    )
}


def hint_for(cause: str | None) -> Hint | None:
    """The hint for a cause key, or a generic one for an unknown non-empty cause."""
    if not cause:
        return None
    return HINTS.get(cause) or HINTS["sync_failed"]
