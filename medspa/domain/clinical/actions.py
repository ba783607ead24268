"""Use cases of the treatment chart and its before/after photos, one transaction each.

Callers: the chart page (medspa/features/charting, through `StaffState._act`) and the protected
media route GET /media/photos/<id> (medspa/api/media.py). Each function opens ONE tenant
transaction with `atomic`, lets the services check the permission (chart.read / chart.write,
photo.read / photo.write; forbidden looks like missing: NotFound), does the work, has the
services write the audit row in that transaction, and commits when it returns. Reads commit
too: every look at the chart or a photo is an audited read of health information.

Keyword-only extras everywhere: `clock` (default: the app clock), `engine` (default: the
app-role engine; tests pass theirs).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.clinical.health_record import check_chart_flags
from medspa.domain.clinical.chart_pdf import render_chart_pdf
from medspa.domain.clinical.device_rows import SettingInput
from medspa.domain.clinical.history import ChartEntry, PhotoEntry, client_charts, client_photos
from medspa.domain.clinical.photos import MediaStore, OpenedPhoto, PhotoInfo, add_photo, list_photos, open_photo
from medspa.domain.clinical.service import Chart, LineInput, amend_chart, get_chart, save_chart, sign_chart
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.permissions import STAFF_ROLES
from medspa.domain.identity.actions import actor_for_token
from medspa.domain.work import atomic, engine_of, now_of

__all__ = ["ChartFile", "ClinicalHistory", "fetch_chart_pdf", "do_add_photo", "do_amend_chart", "do_save_chart", "do_sign_chart", "fetch_chart", "fetch_photo_file",
           "fetch_client_clinical", "fetch_photos", "open_photo_for_session"]


# ---------------------------------------------------------------------------- the chart


def fetch_chart(actor: Actor, appointment_id: int, *, clock: Clock | None = None,
                engine: Engine | None = None) -> Chart:
    """The visit and the current version of its chart (one audited "chart.read").

    Raises NotFound: no such visit, a hold, another clinic's, or `actor` lacks chart.read."""
    with atomic(actor.org_id, engine=engine) as work:
        return get_chart(work.session, actor, appointment_id, now_of(clock))


@dataclass(frozen=True)
class ChartFile:
    """A chart's PDF for the browser: bytes, file name, content type."""

    data: bytes
    filename: str
    content_type: str = "application/pdf"


def fetch_chart_pdf(actor: Actor, appointment_id: int, *, clock: Clock | None = None,
                    engine: Engine | None = None) -> ChartFile:
    """The chart's print version as a PDF (clinical/chart_pdf.py): one audited "chart.read"
    (detail pdf=True) committed before the bytes leave. Raises NotFound (also when forbidden)."""
    with atomic(actor.org_id, engine=engine) as work:
        chart = get_chart(work.session, actor, appointment_id, now_of(clock), pdf=True)
    data = render_chart_pdf(chart, chart.location_name)
    return ChartFile(data, f"chart-{appointment_id}-v{chart.version}.pdf")


def do_save_chart(actor: Actor, appointment_id: int, lines: list[LineInput], note: str, *,
                  settings: list[SettingInput] | None = None, clock: Clock | None = None,
                  engine: Engine | None = None) -> Chart:
    """Save the draft as typed (`lines`: rows as text; `note`: free text, at most 10,000 chars;
    `settings`: the device/peel rows as typed, None to leave them as they are).

    Raises NotFound (also when forbidden: chart.write), ValidationFailed (field messages keyed
    "lines.<i>.<field>", "lines" or "note"), ChartLocked (the current version is signed)."""
    with atomic(actor.org_id, engine=engine) as work:
        return save_chart(work.session, actor, appointment_id, lines, note, now_of(clock), settings)


def do_sign_chart(actor: Actor, appointment_id: int, lines: list[LineInput], note: str, *,
                  settings: list[SettingInput] | None = None, override_reason: str = "", clock: Clock | None = None, engine: Engine | None = None) -> Chart:
    """Save what is on screen and sign it, all or nothing: what is shown is what gets signed.
    A visit its contraindications flag is signed only with the provider's `override_reason`
    (kept, stage "chart": clinical.health_record.check_chart_flags).

    Same errors as do_save_chart; ChartLocked also when there is nothing to sign; HealthFlagged
    (a ValidationFailed keyed "health_reason") when flagged without a reason."""
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        save_chart(work.session, actor, appointment_id, lines, note, now, settings)
        chart = sign_chart(work.session, actor, appointment_id, now)
        check_chart_flags(work.session, actor, appointment_id, override_reason, now)
        return chart


def do_amend_chart(actor: Actor, appointment_id: int, *, clock: Clock | None = None,
                   engine: Engine | None = None) -> Chart:
    """Start an amendment: a new draft version copied from the signed one.

    Raises NotFound (also when forbidden: chart.write), ChartLocked (nothing signed to amend,
    or a draft is already open)."""
    with atomic(actor.org_id, engine=engine) as work:
        return amend_chart(work.session, actor, appointment_id, now_of(clock))


# ---------------------------------------------------------------------------- a client's history


@dataclass(frozen=True)
class ClinicalHistory:
    """What the profile's "Charts & photos" section lists: charts (empty without chart.read)
    and photos (empty without photo.read), newest visit first (clinical.history)."""

    charts: list[ChartEntry]
    photos: list[PhotoEntry]
    can_charts: bool
    can_photos: bool


def fetch_client_clinical(actor: Actor, client_id: int, *, clock: Clock | None = None,
                          engine: Engine | None = None) -> ClinicalHistory:
    """The client's charts and photos for the profile: each list the actor may read is one
    audited read ("chart.read" / "photo.read" with list=True). Raises NotFound when the actor
    may read neither (front desk, manager, lab) or the client is missing or another clinic's."""
    can_charts, can_photos = actor.can("chart.read"), actor.can("photo.read")
    if not (can_charts or can_photos):
        raise NotFound("client")
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        charts = client_charts(work.session, actor, client_id, now) if can_charts else []
        photos = client_photos(work.session, actor, client_id, now) if can_photos else []
        return ClinicalHistory(charts, photos, can_charts, can_photos)


# ---------------------------------------------------------------------------- photos


def fetch_photos(actor: Actor, appointment_id: int, *, clock: Clock | None = None,
                 engine: Engine | None = None) -> list[PhotoInfo]:
    """The visit's photos, before first, then oldest first (one audited "photo.read").

    Raises NotFound: no such visit, a hold, another clinic's, or `actor` lacks photo.read."""
    with atomic(actor.org_id, engine=engine) as work:
        return list_photos(work.session, actor, appointment_id, now_of(clock))


def do_add_photo(actor: Actor, appointment_id: int, data: bytes, kind: str, *, store: MediaStore,
                 clock: Clock | None = None, engine: Engine | None = None) -> PhotoInfo:
    """Store a "before" or "after" photo of the visit (`data`: the uploaded JPEG or PNG bytes,
    at most MAX_BYTES) in the private `store`: checked, oriented, EXIF/GPS stripped, thumbnail.

    Raises NotFound (also when forbidden: photo.write), ValidationFailed ({"kind"} or
    {"photo"}: not an image, too large, too many photos)."""
    with atomic(actor.org_id, engine=engine) as work:
        return add_photo(work.session, actor, appointment_id, data, kind, now_of(clock), store)


def fetch_photo_file(actor: Actor, photo_id: int, *, store: MediaStore, thumb: bool = False,
                     clock: Clock | None = None, engine: Engine | None = None) -> OpenedPhoto:
    """The bytes of one photo (thumb=True: its thumbnail). The "photo.read" audit row is
    committed before the caller can send a single byte.

    Raises NotFound: forbidden, another clinic's, missing, or its bytes are gone."""
    with atomic(actor.org_id, engine=engine) as work:
        return open_photo(work.session, actor, photo_id, now_of(clock), store, thumb=thumb)


def open_photo_for_session(token: str | None, photo_id: int, *, store: MediaStore, thumb: bool = False,
                           ip: str = "", user_agent: str = "", clock: Clock | None = None,
                           engine: Engine | None = None) -> OpenedPhoto | None:
    """For the media route: the photo for the staff session `token` (the HttpOnly cookie), or
    None for anything refused (no or lapsed session, a non-staff role, no photo.read, missing,
    another clinic's): missing and forbidden look alike, and a refusal writes no audit row."""
    engine = engine_of(engine)
    actor = actor_for_token(token, now=now_of(clock), ip=ip, user_agent=user_agent, engine=engine)
    if actor is None or actor.role not in STAFF_ROLES or not actor.can("photo.read"):
        return None
    try:
        return fetch_photo_file(actor, photo_id, store=store, thumb=thumb, clock=clock, engine=engine)
    except NotFound:
        return None
