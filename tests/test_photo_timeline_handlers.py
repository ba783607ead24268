"""PhotoTimelineState on /clients/<id> and the owner's keep-originals switch: the timeline is held
for provider and owner only, the first and last photo are compared, a pick replaces the older
one (hostile and foreign ids ignored), filters narrow the list, sharing toggles; the settings
switch works for the owner only."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.clinical.photos import add_photo
from medspa.domain.identity.actor import Actor
from medspa.features.clients.state import ClientProfileState as P
from medspa.features.photos.settings_card import PhotoSettingsState as S
from medspa.features.photos.timeline import PhotoTimelineState as T
from tests.consent_support import MemoryStore
from tests.test_analytics_trends import _visit
from tests.test_handler_matrix import NOW, staff_state, world  # noqa: F401  (fixture)
from tests.test_handlers import app_settings, call, run  # noqa: F401  (fixture)
from tests.test_photos import jpeg

HOSTILE = [None, -1, 0, 2**70, "1", True, 1.5, {"a": 1}, [1]]


def _profile(w, role: str, client_id: int):
    state = staff_state(T, w, role)
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    root.router = type(root.router).from_router_data({"headers": dict(root.router.headers.raw_headers),
                                                      "pathname": f"/clients/{client_id}",
                                                      "asPath": f"/clients/{client_id}"})
    run(call(P.load, state))
    run(call(T.load, state))
    return state


def _client_with_photos(w) -> tuple[int, list[int]]:
    provider = Actor(org_id=w.clinic.org_id, role="provider", label="nurse")
    store = MemoryStore()
    with w.clinic.session() as s:
        c = find_or_create_client(s, w.clinic.system, ClientInput("Tia", "Lane", f"tia-{w.clinic.slug}@x.com",
                                                                  "+12125550181"))
        s.flush()
        ids = []
        for days, kind, area in ((30, "before", "lips"), (20, "after", "lips"), (10, "after", "chin")):
            visit = _visit(s, w.clinic, NOW - timedelta(days=days), client_id=c.id).id
            ids.append(add_photo(s, provider, visit, jpeg(), kind, NOW, store, area=area, angle="front").id)
        s.commit()
        return c.id, ids


def test_the_timeline_compares_filters_and_shares_for_provider_and_owner_only(world, app_settings):  # noqa: F811
    client_id, (a, b, c) = _client_with_photos(world)
    for role in ("front_desk", "manager"):
        state = _profile(world, role, client_id)
        assert state.status == "ready" and not state.show_timeline and state.items == []
    state = _profile(world, "provider", client_id)
    assert state.show_timeline and state.can_share and not state.consent_signed
    assert [i.id for i in state.items] == [a, b, c]
    assert (state.left.id, state.right.id) == (a, c) and [i.side for i in state.items] == ["A", "", "B"]
    assert [o[0] for o in state.area_options] == ["all", "chin", "lips"]
    for bad in HOSTILE + [10**9]:
        run(call(T.pick, state, bad))
        run(call(T.toggle_share, state, bad))
    assert (state.left.id, state.right.id) == (a, c)
    run(call(T.pick, state, b))  # replaces the older pick (a): b is earlier than c, so b is A
    assert (state.left.id, state.right.id) == (b, c)
    run(call(T.set_area, state, "lips"))
    assert [i.id for i in state.items] == [a, b] and (state.left.id, state.right.id) == (a, b)
    run(call(T.set_area, state, "elbow"))  # not offered: ignored
    assert state.area == "lips"
    run(call(T.set_mode, state, "slider"))
    assert state.mode == "slider"
    run(call(T.toggle_share, state, a))
    assert [i.shared for i in state.items] == [True, False]
    with world.clinic.session() as s:
        shared = s.execute(text("select id from clinical_photo where shared")).scalars().all()
        reads = s.execute(text("select count(*) from audit_event where action = 'photo.read' and client_id = :c "
                               "and detail->>'timeline' = 'true'"), {"c": client_id}).scalar()
    assert shared == [a] and reads == 3  # load, the lips filter, the refresh after sharing (refused ones: none)


def test_the_keep_originals_switch_is_the_owners(world, app_settings):  # noqa: F811
    nurse = staff_state(S, world, "provider")
    run(call(S.load_photo_setting, nurse))
    assert not nurse.photo_setting_allowed
    nurse.photo_setting_allowed = True  # a hostile browser
    run(call(S.set_keep_originals, nurse, True))
    owner = staff_state(S, world, "owner")
    run(call(S.load_photo_setting, owner))
    assert owner.photo_setting_allowed and owner.keep_originals is False
    for bad in ("yes", 1, None, {"a": 1}):
        run(call(S.set_keep_originals, owner, bad))
    run(call(S.set_keep_originals, owner, True))
    assert owner.keep_originals is True and "full-resolution" in owner.photo_setting_message
    with world.clinic.session() as s:
        assert s.execute(text("select keep_photo_originals from organization where id = :o"),
                         {"o": world.clinic.org_id}).scalar() is True
        assert s.execute(text("select count(*) from audit_event where action = 'clinic.photo_originals'")).scalar() == 1


def test_the_portal_photos_tab_shows_shared_photos_once_the_consent_is_signed(world, app_settings, tmp_path,  # noqa: F811
                                                                               monkeypatch):
    from medspa.domain.clinical.photo_actions import do_share_photo
    from medspa.domain.clinical.photos import LocalMediaStore
    from medspa.features.charting import photos as panel
    from medspa.features.photos.portal_tab import PortalPhotosState as PP
    from medspa.settings import Settings
    from tests.test_handler_matrix import new_visit
    from tests.test_handlers import state_for
    from tests.test_photo_pipeline import sign_photo_consent

    media = Settings(database_url=app_settings.database_url, database_owner_url=app_settings.database_owner_url,
                     media_dir=tmp_path / "media")
    monkeypatch.setattr(panel, "get_settings", lambda: media)
    provider = Actor(org_id=world.clinic.org_id, role="provider", label="nurse")
    appt = new_visit(world, own=True)
    with world.clinic.session() as s:
        photo = add_photo(s, provider, appt, jpeg(), "after", NOW, LocalMediaStore(tmp_path / "media"), area="lips")
        hidden = add_photo(s, provider, appt, jpeg(), "before", NOW, LocalMediaStore(tmp_path / "media"))
        s.commit()
    do_share_photo(provider, photo.id, True, engine=world.clinic.engine)

    def tab(token: str):
        state = state_for(PP, None)
        parent = state.parent_state
        parent.status, parent.step, parent._org_id, parent._token = "ready", "portal", world.clinic.org_id, token
        run(call(PP.load_photos, state))
        return state

    state = tab(world.portal_token)
    assert state.photos_loaded and state.portal_photos == []  # shared, but no photo consent yet
    sign_photo_consent(world.clinic, world.client_id)
    state = tab(world.portal_token)
    assert [(p.id, p.caption) for p in state.portal_photos] == [(photo.id, "After · Lips")]
    assert state.portal_photos[0].src.startswith("data:image/jpeg;base64,/9j/")
    for bad in HOSTILE + [hidden.id]:
        assert run(call(PP.download, state, bad)) is None
    assert run(call(PP.download, state, photo.id)) is not None
    stranger = tab("not-a-token")
    assert stranger.portal_photos == [] and not stranger.photos_loaded
