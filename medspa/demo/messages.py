"""Demo messages (issue 19): so Settings > Messages, /texts, the client profile's texts and
/campaigns show something on first run.

- the clinic's own wording: post-treatment care for its neuromodulator services and pre-visit
  instructions for its fillers (message_template rows, per service);
- two texts clients sent back, through the inbound service: one flagged for the desk ("running
  late") and a STOP (that number is opted out, its SMS marketing consent withdrawn);
- a "Botox touch-up" campaign to the lapsed-neuromodulator segment, sent nine days ago through
  the campaign services; its messages are then marked sent / delivered as a mail server and
  Twilio would have (the demo has neither), so its results read like a real send.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, select

from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.campaigns import CampaignInput, finish_sent, queue_due, save_draft, send_now
from medspa.domain.messaging.engage_models import MessageTemplate
from medspa.domain.messaging.inbound import InboundText, receive_text
from medspa.domain.messaging.models import MessageStatus, OutboxMessage
from medspa.domain.practice.models import Location, Organization
from medspa.domain.scheduling.models import Appointment
from medspa.domain.timezones import wall_to_utc

POST_CARE = ("Hi {{ client.first_name }},\n\nThank you for visiting us today. For the next 4 hours, stay upright "
             "and avoid rubbing or massaging the treated areas; skip the gym, saunas and facials until tomorrow. "
             "Results appear over 3-14 days. Questions? Just reply to this email.\n\n{{ clinic.name }}")
PRE_VISIT = ("Hi {{ client.first_name }},\n\nTo keep bruising to a minimum before your {{ visit.treatment }} on "
             "{{ visit.when }}: avoid aspirin, ibuprofen, fish oil and alcohol for 48 hours if your doctor agrees, "
             "and come without make-up on the treatment area.\n\n{{ clinic.name }}")
CAMPAIGN = CampaignInput(
    name="Botox touch-up: 4 months", segment="lapsed_neuromodulator", params={"months": "4"}, channel="both",
    subject="Time for your touch-up, {{ client.first_name }}?",
    body=("Hi {{ client.first_name }},\n\nIt has been about four months since your last neuromodulator visit, "
          "when most clients book their touch-up. Pick a time that suits you: {{ links.book }}\n\n{{ clinic.name }}"),
    sms_body="{{ clinic.name }}: time for your touch-up? Book: {{ links.book }}")


def seed_messages(session: Session, org_id: int, now: datetime, owner: Actor) -> None:
    """Templates, two inbound texts and a sent campaign for clinic `org_id` (see the module);
    `now`: the demo's now (aware UTC); `owner`: the demo owner (campaign.manage). Nothing when
    the clinic already has templates."""
    if session.exec(select(MessageTemplate.id).limit(1)).first() is not None:
        return
    services = session.exec(select(Service).where(Service.active)).all()
    for service in services:
        category = (service.category or "").lower()
        if "neuromodulator" in category:
            session.add(MessageTemplate(org_id=org_id, kind="post_care", channel="email", service_id=service.id,
                                        subject="Aftercare for your {{ visit.treatment }}", body=POST_CARE,
                                        updated_at=now - timedelta(days=30), updated_by=owner.label))
        elif "filler" in category:
            session.add(MessageTemplate(org_id=org_id, kind="pre_visit", channel="email", service_id=service.id,
                                        subject="Before your {{ visit.treatment }}", body=PRE_VISIT,
                                        updated_at=now - timedelta(days=30), updated_by=owner.label))
    org = session.get(Organization, org_id)
    # "running late" comes from a client whose visit is later today (user trial: it came from one
    # with no visit that day), the STOP from another client with a mobile number
    soon = session.exec(select(Client).join(Appointment, Appointment.client_id == Client.id).where(
        Client.phone_e164.is_not(None), Client.merged_into_id.is_(None), Appointment.status == "confirmed",
        Appointment.start_at > now, Appointment.start_at < now + timedelta(hours=10))
        .order_by(Appointment.start_at, Client.id).limit(1)).first()
    others = session.exec(select(Client).where(Client.phone_e164.is_not(None), Client.merged_into_id.is_(None),
                                               Client.id != (soon.id if soon else 0)).order_by(Client.id).limit(2)).all()
    texting = ([soon] if soon else []) + list(others)
    number = org.sms_from_number or "+12125550100"
    replies = ("Running about 10 minutes late, sorry!", "STOP")
    for i, (client, body) in enumerate(zip(texting, replies)):
        receive_text(session, org_id, InboundText(client.phone_e164, number, body, f"SMdemo{org_id}x{i}"),
                     now=now - timedelta(hours=2 - i))
    zone = session.exec(select(Location.time_zone).order_by(Location.id)).first() or "UTC"
    sent_at = wall_to_utc((now - timedelta(days=9)).astimezone(ZoneInfo(zone)).date(), time(10, 0), ZoneInfo(zone))
    campaign_id = save_draft(session, owner, None, CAMPAIGN, sent_at - timedelta(hours=1))
    send_now(session, owner, campaign_id, sent_at)
    # each recipient's message goes when their quiet hours allow (checked again at queue time):
    # two hours after the start, then a day later for anyone held overnight
    for later in (timedelta(hours=2), timedelta(hours=26)):
        while queue_due(session, sent_at + later)[0]:  # batches of campaigns.BATCH
            pass
    finish_sent(session, sent_at + timedelta(hours=26))
    for channel, status in (("email", MessageStatus.SENT.value), ("sms", MessageStatus.DELIVERED.value)):
        session.execute(update(OutboxMessage).where(OutboxMessage.campaign_id == campaign_id,
                                                    OutboxMessage.channel == channel)
                        .values(status=status, sent_at=sent_at + timedelta(minutes=2), attempts=1,
                                delivered_at=sent_at + timedelta(minutes=3) if channel == "sms" else None))
    session.flush()
