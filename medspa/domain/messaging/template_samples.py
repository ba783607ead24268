"""Checking a clinic's wording before it is saved, and the made-up values the editor previews
with: `check_template` renders a draft with `sample_context` (every variable of its kind, a
sample visit) under the sandbox's StrictUndefined, so a misspelt variable or a syntax error is
refused with its field's message; `kind_extras` are the sample values of a kind's own variables
(the old time of a moved visit, a cancellation's deposit sentence, ...); `sms_segments` counts
an SMS the way carriers bill it.
"""

from __future__ import annotations

from typing import Any

from medspa.domain.messaging.templates import KINDS, MAX_SUBJECT, TemplateInvalid, render_source, with_extra
from medspa.domain.textrules import refuse_control
from medspa.settings import get_settings

GSM_7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
            "¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_7_EXTENDED = set("^{}\\[~]|€\f")


def sms_segments(text: str) -> tuple[int, int]:
    """(characters, segments) of an SMS as carriers count them: GSM-7 text takes 160 characters
    in one segment and 153 per segment beyond (the extended characters ^{}[]~|€ count twice);
    any other character makes it UCS-2: 70 in one, 67 per segment beyond. ("" is (0, 0).)"""
    if not text:
        return 0, 0
    if all(c in GSM_7 or c in GSM_7_EXTENDED for c in text):
        units = sum(2 if c in GSM_7_EXTENDED else 1 for c in text)
        return len(text), 1 if units <= 160 else -(-units // 153)
    units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
    return len(text), 1 if units <= 70 else -(-units // 67)


def _sample_visit(channel: str, *, treatment_shown: bool) -> dict[str, str]:
    return {"when": "Tue, Jun 30, 2026, 2:00 PM EDT (America/New_York)", "date": "Tue, Jun 30", "time": "2:00 PM",
            "treatment": "Lip filler" if treatment_shown else "appointment", "provider": "Dr. Maya Chen",
            "location": "Main studio", "address": "12 Grand St, New York", "reference": "K7P-4QX",
            "deposit": "$50.00",
            "terms": "Cancellations more than 24 hours ahead are refunded in full."}


def kind_extras(kind: str, when: str = "Tue, Jun 30, 2026, 2:00 PM EDT (America/New_York)") -> dict[str, Any]:
    """Made-up values of `kind`'s own variables (the preview, and the check of a template
    being saved): every name of KINDS[kind].variables beyond the visit's and the client's."""
    samples: dict[str, dict[str, Any]] = {
        "move_notice": {"visit": {"old_when": "Mon, Jun 29, 2026, 11:00 AM EDT (America/New_York)"}},
        "cancellation_notice": {"cancellation": {
            "deposit": "Your deposit: $50.00 is being refunded to your card.",
            "deposit_short": "$50.00 is being refunded to your card."}},
        "series_confirmation": {"series": {
            "count": "3 visits", "description": "Every 4 weeks on Tuesday",
            "visits": f"- {when} · ref K7P-4QX\n- Tue, Jul 28, 2026, 2:00 PM EDT (America/New_York) · ref K7P-4QY\n"
                      "- Tue, Aug 25, 2026, 2:00 PM EDT (America/New_York) · ref K7P-4QZ",
            "deposit": "Deposit due: $50.00 (the clinic will tell you how to pay).",
            "terms": "Each visit: Cancellations more than 24 hours ahead are refunded in full."}},
        "deposit_receipt": {"payment": {"amount": "$50.00", "card_last4": "4242"}},
        "checkout_receipt": {"receipt": {"price": "$450.00", "deposit_applied": "$50.00", "charged": "$400.00",
                                         "card_last4": "4242", "total": "$450.00", "refunding": ""}},
        "deposit_refund": {"refund": {"amount": "$50.00", "pending": False}},
        "fee_notice": {"fee": {"title": "No-show fee",
                               "sentence": "A no-show fee of $75.00 was charged: $50.00 from your deposit and "
                                           "$25.00 to your card ending 4242."}},
        "waitlist_offer": {"offer": {"link": f"{get_settings().base_url}/book/your-clinic/offer/sample",
                                     "held_until": "4:30 PM EDT",
                                     "terms": "We are holding it for you until 4:30 PM EDT; after that it goes to "
                                              "the next person waiting."}},
    }
    return samples.get(kind, {})


def sample_context(kind: str, channel: str, *, clinic_name: str = "Your clinic", treatment_shown: bool = False,
                   book_url: str = "") -> dict[str, Any]:
    """A made-up context with every variable of `kind` (a visit for visit kinds, the client and
    the clinic, the kind's own values): the check of a template being saved and the preview
    when the clinic has no upcoming visit. Raises KeyError for an unknown kind."""
    spec = KINDS[kind]
    base = get_settings().base_url
    context: dict[str, Any] = {
        "client": {"first_name": "Jordan", "last_name": "Rivera"}, "clinic": {"name": clinic_name},
        "links": {"book": book_url or f"{base}/book/your-clinic", "manage": f"{base}/book/your-clinic/manage/sample",
                  "forms": f"{base}/portal/your-clinic/forms", "unsubscribe": f"{base}/unsubscribe/sample"},
        "channel": channel}
    if any(v.startswith("visit.") for v in spec.variables):
        context["visit"] = _sample_visit(channel, treatment_shown=treatment_shown)
    return with_extra(context, kind_extras(kind))


def check_template(kind: str, channel: str, subject: str, body: str) -> dict[str, str]:
    """Field messages for a clinic's wording of `kind` on `channel` ({} when it is fine): each
    of `subject` (email only; one line, at most MAX_SUBJECT characters) and `body` (not
    empty; neither with NUL or other control characters: textrules.refuse_control) must render
    with sample_context under StrictUndefined, so an unknown variable or a
    syntax error is refused with its line. Keys: "subject", "body", "channel"."""
    spec = KINDS.get(kind)
    if spec is None:
        return {"kind": "Choose a message"}
    if channel not in spec.channels:
        return {"channel": f"{spec.label} is not sent by {'text' if channel == 'sms' else channel}"}
    errors: dict[str, str] = {}
    context = sample_context(kind, channel, treatment_shown=True)
    refuse_control(subject, "subject", errors, multiline=True)  # newlines: the message below
    refuse_control(body, "body", errors, multiline=True)
    if "subject" in errors:
        pass
    elif channel == "email":
        if "\n" in subject.strip() or "\r" in subject:
            errors["subject"] = "Keep the subject on one line"
        elif len(subject) > MAX_SUBJECT:
            errors["subject"] = f"Keep the subject under {MAX_SUBJECT} characters"
        elif not subject.strip():
            errors["subject"] = "Enter a subject"
        else:
            try:
                render_source(subject, context)
            except TemplateInvalid as exc:
                errors["subject"] = exc.message
    elif subject.strip():
        errors["subject"] = "A text message has no subject"
    if "body" in errors:
        pass
    elif not body.strip():
        errors["body"] = "Enter the message (or reset it to the default)"
    else:
        try:
            render_source(body, context)
        except TemplateInvalid as exc:
            errors["body"] = exc.message
    return errors
