"""Use cases of consent, one transaction each (callers: the portal's Consents tab, the staff
tablet view, the client profile, the consent settings page, the demo seed).

Each opens ONE tenant transaction with `atomic`, lets the services check the permission
(forbidden looks like missing: NotFound), has them write the audit row in that transaction
and commits when it returns; reads commit too (a read of a signed consent is audited).
Keyword-only extras: `clock` (default: the app clock), `engine` (tests pass theirs).
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.clinical.consent import (ServiceChoice, TemplateInfo, edit_template, list_templates,
                                            service_choices, set_service_consent)
from medspa.domain.clinical.consent_signing import (ConsentFile, ConsentToSign, SignedConsent, TabletVisit,
                                                    client_signatures, consents_to_sign, sign_consent, signature_pdf,
                                                    tablet_visit)
from medspa.domain.clinical.photos import MediaStore
from medspa.domain.identity.actor import Actor
from medspa.domain.work import atomic, now_of

__all__ = ["do_edit_consent_template", "do_set_service_consent", "do_sign_consent", "fetch_consent_pdf",
           "fetch_consent_templates", "fetch_service_choices", "fetch_consents_to_sign", "fetch_signed_consents", "fetch_tablet_visit"]


def fetch_consent_templates(actor: Actor, *, clock: Clock | None = None,
                            engine: Engine | None = None) -> list[TemplateInfo]:
    """Every consent template with its current text and versions (consent.manage). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return list_templates(work.session, actor, now_of(clock))


def do_edit_consent_template(actor: Actor, template_id: int, title: str, body: str, *, clock: Clock | None = None,
                             engine: Engine | None = None) -> tuple[int, bool]:
    """Save a template's text: (version, made a new version). Raises NotFound, ValidationFailed
    ({"title"} / {"body"})."""
    with atomic(actor.org_id, engine=engine) as work:
        return edit_template(work.session, actor, template_id, title, body, now_of(clock))


def fetch_service_choices(actor: Actor, template_id: int, *, clock: Clock | None = None,
                          engine: Engine | None = None) -> list[ServiceChoice]:
    """Every active service and whether it requires the template (consent.manage). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return service_choices(work.session, actor, template_id, now_of(clock))


def do_set_service_consent(actor: Actor, service_id: int, template_id: int, required: bool | None, *,
                           clock: Clock | None = None, engine: Engine | None = None) -> None:
    """A service's own choice for a template (None: back to the default). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        set_service_consent(work.session, actor, service_id, template_id, required, now_of(clock))


def fetch_consents_to_sign(actor: Actor, client_id: int, *, appointment_id: int | None = None,
                           clock: Clock | None = None, engine: Engine | None = None) -> list[ConsentToSign]:
    """What the client still has to sign (their upcoming visits, or visit `appointment_id`).
    A portal client (own) or consent.collect. Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return consents_to_sign(work.session, actor, client_id, now_of(clock), appointment_id=appointment_id)


def do_sign_consent(actor: Actor, client_id: int, version_id: int, shown_sha256: str, *, method: str,
                    signature_png: bytes = b"", typed_name: str = "", choice: str = "",
                    appointment_id: int | None = None, store: MediaStore, clock: Clock | None = None,
                    engine: Engine | None = None) -> SignedConsent:
    """Sign the version shown (see consent_signing.sign_consent). Raises NotFound,
    ValidationFailed, StaleConsent (its .current is the text to show now)."""
    with atomic(actor.org_id, engine=engine) as work:
        return sign_consent(work.session, actor, client_id, version_id, shown_sha256, method=method,
                            signature_png=signature_png, typed_name=typed_name, choice=choice,
                            appointment_id=appointment_id, now=now_of(clock), store=store)


def fetch_signed_consents(actor: Actor, client_id: int, *, clock: Clock | None = None,
                          engine: Engine | None = None) -> list[SignedConsent]:
    """The client's signed consents (consent.read or the client; one audited read). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return client_signatures(work.session, actor, client_id, now_of(clock))


def fetch_consent_pdf(actor: Actor, signature_id: int, *, store: MediaStore, clock: Clock | None = None,
                      engine: Engine | None = None) -> ConsentFile:
    """One signed consent's PDF; the "consent.download" audit row commits before the bytes
    are returned. Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return signature_pdf(work.session, actor, signature_id, now_of(clock), store)


def fetch_tablet_visit(actor: Actor, appointment_id: int, *, clock: Clock | None = None,
                       engine: Engine | None = None) -> TabletVisit:
    """The visit's client (first name) and the consents to sign on the tablet (consent.collect).
    Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return tablet_visit(work.session, actor, appointment_id, now_of(clock))
