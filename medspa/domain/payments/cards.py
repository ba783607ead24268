"""Cards on file (issue 16 section 1): a client's card saved at the gateway for later
off-session charges, and the setups (SetupIntents) that save them.

Never a card number in the database: a SavedCard holds the gateway's customer and payment
method ids, the brand, the last four digits and the expiry. A setup is recorded `pending`
with its idempotency key (setup_idempotency_key) and committed BEFORE the gateway is called
(record_pending_setup), then the gateway's answer moves it forward (apply_setup_outcome),
which saves the card once. The webhook (setup_intent.succeeded) and reconciliation answer
through apply_setup_outcome too, so whoever hears first saves the card and the others change
nothing. A succeeded setup of a visit keeps its reconcile_after until the visit's booking step
has run (booking_step_taken): a crash between the card and the booking is finished by
reconciliation (scheduling.card_step.complete_card_booking), and the hold is kept meanwhile
(scheduling.availability.money_on_hold).

Services: they take a session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, update
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.payments.gateway import SetupResult
from medspa.domain.payments.models import CardSetup, CardSetupStatus, SavedCard
from medspa.domain.scheduling.models import Appointment, AppointmentStatus

BRAND_NAMES = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express", "discover": "Discover",
               "diners": "Diners Club", "jcb": "JCB", "unionpay": "UnionPay"}
"""How a card network (Stripe's card.brand values) is written for people."""

SETUP_FORWARD = {
    CardSetupStatus.PENDING: {CardSetupStatus.REQUIRES_ACTION, CardSetupStatus.SUCCEEDED, CardSetupStatus.DECLINED,
                              CardSetupStatus.FAILED},
    CardSetupStatus.REQUIRES_ACTION: {CardSetupStatus.SUCCEEDED, CardSetupStatus.DECLINED, CardSetupStatus.FAILED},
}
"""The moves a card setup may make from each status; settled ones (succeeded, declined,
failed) never move again, so a late or replayed answer changes nothing twice."""
OPEN = (CardSetupStatus.PENDING, CardSetupStatus.REQUIRES_ACTION)
"""A card setup whose outcome is not settled yet: its booking waits for the card."""


def card_label(card: SavedCard | None) -> str:
    """"Visa ••4242" (the brand as BRAND_NAMES writes it, "Card" for an unknown one, and the
    last four digits); "" without a card."""
    if card is None:
        return ""
    brand = BRAND_NAMES.get((card.brand or "").lower(), "Card")
    return f"{brand} ••{card.last4}" if card.last4 else brand


def card_expiry_text(card: SavedCard) -> str:
    """The expiry as printed on the card: "04/27"."""
    return f"{int(card.exp_month):02d}/{int(card.exp_year) % 100:02d}"


def card_valid_until(card: SavedCard) -> datetime:
    """The first instant the card is no longer valid (aware UTC): a card is valid through
    the last day of its expiry month (card networks' rule), so the first day of the month
    after, 00:00 UTC. A card without a usable expiry (month not 1-12) counts as expired."""
    month, year = int(card.exp_month or 0), int(card.exp_year or 0)
    if not 1 <= month <= 12 or year < 1:
        return datetime(1970, 1, 1, tzinfo=timezone.utc)
    return datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=timezone.utc)


def expires_before(card: SavedCard, instant: datetime) -> bool:
    """True when `card` is no longer valid at `instant` (aware): its expiry month ended
    (card_valid_until <= instant). A card expiring 04/27 is good for a visit on 30 April 2027
    and expired for one on 1 May 2027 (UTC). Raises ValueError for a naive instant."""
    if instant.tzinfo is None:
        raise ValueError("expires_before needs an aware instant")
    return card_valid_until(card) <= instant


def default_card(session: Session, client_id: int | None) -> SavedCard | None:
    """The client's card on file that a charge uses: the most recently saved card not
    removed; None when they have none (or no client)."""
    if not client_id:
        return None
    return session.exec(select(SavedCard).where(SavedCard.client_id == client_id, SavedCard.removed_at.is_(None))
                        .order_by(SavedCard.created_at.desc(), SavedCard.id.desc())).first()


CARD_GONE = "That card is no longer on file for this client: type the card instead."


def chargeable_card(session: Session, client_id: int | None, saved_card_id: int, gateway_name: str,
                    now: datetime) -> SavedCard:
    """The client's card on file `saved_card_id`, chargeable now through gateway `gateway_name`
    (checkout's "Charge Visa ••4242"). Raises ValidationFailed({"saved_card": ...}): not this
    client's, removed, or another clinic's (RLS hides it): CARD_GONE; saved with another payment
    provider; or expired at `now` (expires_before): "Visa ••4242 expired 04/26: type another card."."""
    card = session.get(SavedCard, saved_card_id) if isinstance(saved_card_id, int) else None
    if card is None or card.client_id != client_id or card.removed_at is not None:
        raise ValidationFailed({"saved_card": CARD_GONE})
    if card.gateway != gateway_name:
        raise ValidationFailed({"saved_card": "This card was saved with another payment provider: type the card "
                                              "instead."})
    if expires_before(card, now):
        raise ValidationFailed({"saved_card": f"{card_label(card)} expired {card_expiry_text(card)}: "
                                              "type another card."})
    return card


def card_for_visit(session: Session, appointment: Appointment) -> SavedCard | None:
    """The card on file for a visit: the card saved at its booking (its succeeded card
    setup) while not removed, else the client's default_card; None without either."""
    saved = session.exec(select(SavedCard).join(CardSetup, CardSetup.saved_card_id == SavedCard.id)
                         .where(CardSetup.appointment_id == appointment.id,
                                CardSetup.status == CardSetupStatus.SUCCEEDED, SavedCard.removed_at.is_(None))
                         .order_by(CardSetup.id.desc())).first()
    return saved or default_card(session, appointment.client_id)


def setup_idempotency_key(session: Session, appointment_id: int) -> str:
    """"setup-<appointment id>-attempt-<n>", n = earlier card setups of the visit + 1."""
    attempts = session.exec(select(func.count()).select_from(CardSetup)
                            .where(CardSetup.appointment_id == appointment_id)).one()
    return f"setup-{appointment_id}-attempt-{attempts + 1}"


def open_setup(session: Session, appointment_id: int) -> CardSetup | None:
    """The visit's latest card setup still open (pending or requires_action), if any."""
    return session.exec(select(CardSetup).where(CardSetup.appointment_id == appointment_id,
                                                CardSetup.status.in_([str(s) for s in (CardSetupStatus.PENDING,
                                                                                       CardSetupStatus.REQUIRES_ACTION)]))
                        .order_by(CardSetup.id.desc())).first()


def latest_setup(session: Session, appointment_id: int) -> CardSetup | None:
    """The visit's most recent card setup of any status, if any."""
    return session.exec(select(CardSetup).where(CardSetup.appointment_id == appointment_id)
                        .order_by(CardSetup.id.desc())).first()


def waiting_for_card(session: Session, appointment_id: int) -> bool:
    """True while the visit's booking waits for its card to be saved (an open card setup)."""
    return open_setup(session, appointment_id) is not None


def card_waiting_ids(session: Session, appointment_ids: list[int]) -> set[int]:
    """Of `appointment_ids`, those still held whose booking waits for its card (an open card
    setup: pending or requires_action)."""
    if not appointment_ids:
        return set()
    return set(session.exec(select(CardSetup.appointment_id).join(Appointment, Appointment.id == CardSetup.appointment_id)
                            .where(CardSetup.appointment_id.in_(appointment_ids), Appointment.status == AppointmentStatus.HELD,
                                   CardSetup.status.in_([str(s) for s in OPEN]))))


def record_pending_setup(session: Session, actor: Actor, *, client_id: int, appointment_id: int | None,
                         gateway: str, idempotency_key: str, now: datetime, reconcile_after: datetime) -> CardSetup:
    """The CardSetup row of a setup about to be sent: status pending with its idempotency key,
    reconcile_after (from then on reconciliation may ask the gateway). Audit card.setup_pending.
    reconcile_after: payments.service.reconcile_after_of(now, the hold's expiry, grace), the
    rule charges follow. The caller commits BEFORE calling the gateway."""
    setup = CardSetup(org_id=actor.org_id, client_id=client_id, appointment_id=appointment_id, gateway=gateway,
                      idempotency_key=idempotency_key, status=CardSetupStatus.PENDING, created_at=now,
                      reconcile_after=reconcile_after)
    session.add(setup)
    session.flush()
    record(session, actor, "card.setup_pending", "card_setup", setup.id, client_id=client_id, at=now,
           appointment_id=appointment_id, idempotency_key=idempotency_key)
    return setup


def save_card(session: Session, actor: Actor, *, client_id: int, gateway: str, result: SetupResult,
              now: datetime) -> SavedCard | None:
    """The client's SavedCard of a succeeded setup (`result`), once per payment method: the
    client's own card with that payment method is returned as it is. None when the payment
    method is on file for ANOTHER client of the clinic (a payment method is unique per clinic:
    never reused across clients; Stripe attaches one to one customer only). Audit card.saved.
    Only ids, brand, last4 and expiry are kept."""
    existing = session.exec(select(SavedCard).where(SavedCard.payment_method_id == result.payment_method_id)
                            .order_by(SavedCard.id)).first()
    if existing is not None:
        return existing if existing.client_id == client_id else None
    card = SavedCard(org_id=actor.org_id, client_id=client_id, gateway=gateway,
                     gateway_customer_id=result.customer_id or "", payment_method_id=result.payment_method_id,
                     brand=(result.brand or "").lower()[:30], last4="".join(c for c in result.last4 if c.isdigit())[-4:],
                     exp_month=int(result.exp_month or 0), exp_year=int(result.exp_year or 0), created_at=now)
    session.add(card)
    session.flush()
    record(session, actor, "card.saved", "saved_card", card.id, client_id=client_id, at=now, label=card_label(card))
    return card


def apply_setup_outcome(session: Session, actor: Actor, setup: CardSetup, result: SetupResult,
                        now: datetime) -> bool:
    """Move `setup` (locked by the caller) to the gateway's answer when SETUP_FORWARD allows
    it: setup_intent_id, message; succeeded saves the card (save_card) and links it; declined /
    failed / succeeded are settled (settled_at; reconcile_after NULL, except for a succeeded
    setup of a visit: kept until the visit's booking step runs, booking_step_taken).
    A payment method on file for another client (save_card: None) fails the setup instead
    ("This card is on file for another client."): a setup never points at another's card.
    Audit card.setup_<status>.
    Returns False, changing nothing, for a move SETUP_FORWARD refuses (already settled)."""
    status = CardSetupStatus(result.status)
    if status not in SETUP_FORWARD.get(CardSetupStatus(setup.status), set()):
        return False
    setup.setup_intent_id = result.setup_intent_id or setup.setup_intent_id
    card = None
    if status == CardSetupStatus.SUCCEEDED:
        card = save_card(session, actor, client_id=setup.client_id, gateway=setup.gateway, result=result, now=now)
        if card is None:
            status = CardSetupStatus.FAILED
            result = SetupResult(status=status, message="This card is on file for another client.")
    setup.status = status
    if card is not None:
        setup.saved_card_id = card.id
        setup.failure_message = setup.decline_code = ""
    else:
        setup.failure_message = (result.message or "")[:500]
        setup.decline_code = (result.decline_code or "")[:100]
    if status not in OPEN:
        awaits_booking = status == CardSetupStatus.SUCCEEDED and setup.appointment_id is not None
        setup.reconcile_after = (setup.reconcile_after or now) if awaits_booking else None
        setup.settled_at = now
    session.add(setup)
    session.flush()
    record(session, actor, f"card.setup_{status}", "card_setup", setup.id, client_id=setup.client_id, at=now,
           appointment_id=setup.appointment_id)
    return True


def awaits_booking_step(setup: CardSetup) -> bool:
    """True for a succeeded setup of a visit whose booking step (confirm, charge the deposit
    on the card) has not run yet: reconciliation finishes it from setup.reconcile_after on."""
    return (setup.status == CardSetupStatus.SUCCEEDED and setup.appointment_id is not None
            and setup.reconcile_after is not None)


def booking_step_taken(session: Session, appointment_id: int) -> None:
    """The visit's booking step has run (its deposit payment recorded, or the visit confirmed,
    or nothing is left to book): its succeeded card setups no longer await it (reconcile_after
    NULL). Caller holds the appointment's lock (lock order: the visit, then its setups)."""
    session.execute(update(CardSetup).where(CardSetup.appointment_id == appointment_id,
                                            CardSetup.status == CardSetupStatus.SUCCEEDED,
                                            CardSetup.reconcile_after.is_not(None))
                    .values(reconcile_after=None))


def setup_by_intent(session: Session, setup_intent_id: str) -> CardSetup | None:
    """The current clinic's card setup with gateway id `setup_intent_id`, locked; None if none."""
    if not setup_intent_id:
        return None
    return session.exec(select(CardSetup).where(CardSetup.setup_intent_id == setup_intent_id)
                        .with_for_update()).first()


def setup_by_key(session: Session, idempotency_key: str) -> CardSetup | None:
    """The current clinic's card setup with `idempotency_key`, locked; None if none."""
    return session.exec(select(CardSetup).where(CardSetup.idempotency_key == idempotency_key)
                        .with_for_update()).first()



@dataclass(frozen=True)
class VisitCard:
    """The card on file as a visit shows it: label "Visa ••4242" ("" without a card), expiry
    "04/27", expires_before_visit (the card is no longer valid when the visit starts:
    expires_before), waiting (the booking still waits for its card to be saved), card_id: the
    SavedCard's id (0 without a card), which checkout charges when the desk picks it."""

    label: str = ""
    expiry: str = ""
    expires_before_visit: bool = False
    waiting: bool = False
    card_id: int = 0

    @property
    def warning(self) -> str:
        """"Card expires 04/27, before this visit: ask the client for a new card." ("" when fine)."""
        if not self.expires_before_visit:
            return ""
        return f"Card {self.label} expires {self.expiry}, before this visit: ask the client for a new card."


def visit_card(session: Session, appointment: Appointment) -> VisitCard:
    """The VisitCard of `appointment`: card_for_visit's label and expiry, whether it expires
    before the visit starts, and whether the booking still waits for its card (an open setup)."""
    card = card_for_visit(session, appointment)
    waiting = waiting_for_card(session, appointment.id)
    if card is None:
        return VisitCard(waiting=waiting)
    return VisitCard(card_label(card), card_expiry_text(card), expires_before(card, appointment.start_at), waiting,
                     card.id)
