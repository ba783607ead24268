"""The Staff page's invite form through its Reflex handler: the notice says whether the link
was emailed (a new user found "Invitation sent to ..." on a server without email)."""

from __future__ import annotations

import medspa.features.staff.invites as invites
from medspa.features.staff.invites import InvitesState
from tests.test_handler_matrix import World, staff_state, world  # noqa: F401  (fixture)
from tests.test_handlers import app_settings, call, run  # noqa: F401  (fixture)


def _invite(w: World, email: str) -> InvitesState:
    state = staff_state(InvitesState, w, "owner")
    run(call(InvitesState.load, state))
    run(call(InvitesState.invite, state, {"email": email, "name": "Ines Lopez", "role": "front_desk", "title": ""}))
    return state


def test_the_notice_says_nothing_was_sent_when_email_is_not_set_up(world: World, app_settings, monkeypatch):  # noqa: F811
    state = _invite(world, "ines.nomail@example.com")
    assert state.notice == ("Email is not set up on this server, so nothing was sent: give ines.nomail@example.com "
                            "this link. It works once, for 7 days:")
    assert "/invite?token=" in state.link
    with_mail = app_settings.model_copy(update={"smtp_host": "smtp.example.com"})
    monkeypatch.setattr(invites, "get_settings", lambda: with_mail)
    state = _invite(world, "ines.mail@example.com")
    assert state.notice == "Invitation sent to ines.mail@example.com. The link works once, for 7 days:"
