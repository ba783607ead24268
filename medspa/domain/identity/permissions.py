"""The one permission table: role -> actions. Every service checks it on the server.

staff.manage (owner): revoke a staff member's sessions, deactivate accounts, require
two-factor, unlock, reset a lost second factor.

chart.read / chart.write (provider and owner only: never front desk, lab nor manager, who
runs the business, not clinical care): read a visit's treatment chart (each read audited),
save the draft, sign it, amend a signed one (domain/clinical/service.py).

photo.read / photo.write (provider and owner only: never front desk, lab nor manager): see a
visit's before/after photos and a client's photo timeline (every list, view and download
audited) and add them (domain/clinical/photos.py, route /media/photos/<id>); photo.write also
edits a photo's tags and shares it with the client's portal (clinical/photo_timeline.py; the
portal shows it only while the photo-use consent is signed). Whether full-resolution originals
are kept is the owner's clinic.manage (clinical/photo_actions.py).

client.read / client.contact.read (owner, manager, provider, front desk; never lab, client
nor public): the client list /clients and the profile /clients/<id> (domain/clients/actions.py;
each list page audited as client.list with the ids shown, each profile as client.read of that
client), the booking dialog's search; contact details (phone, email, date of birth) need
client.contact.read. The profile's chart and photo data need chart.read / photo.read besides.

report.read (owner and manager only): the analytics reports (domain/analytics/service.py):
no-shows, cancellations, utilization, rebooking, new clients, revenue, and their drill-down rows.

payment.take (owner, manager, provider, front desk; never lab, client nor public): check a
visit out at the desk, i.e. sell it at its price, apply the deposit paid and charge the
balance to a card (domain/payments/checkout.py), and see the checkout figures of a visit.

jobs.read (owner only): the job queue's dead letters, jobs that failed their last attempt
(domain/queue/service.py): the clinic's own and those about every clinic.

outbox.manage (owner and manager): the outbox page (domain/messaging/outbox.py): list the
clinic's email and SMS with filters, open one (its body can name a visit's service: each list
and each opened message is audited) and send a failed one again (audited).

settings.write (owner and manager: running the business): the clinic's set-up, e.g. the
service menu on /settings (domain/catalog/editing.py: add, edit, archive and restore
services, each change audited with old and new values), locations, rooms, staff records.

client.import (owner and manager): bring a client list from the old system (CSV or XLSX,
domain/clients/import_actions.py): review it against the clinic's clients, then import it.

client.merge (owner and manager): merge two records of one client and undo it within the
window (domain/clients/merge.py).

appointment.reschedule (staff who book): move a visit to another time, provider, service or
room (scheduling/reschedule.py). appointment.reschedule_own and appointment.cancel_own (a portal
client, and a visitor holding the manage link's token: scheduling.service.holds_visit checks
the client or the token): move or cancel their own visit on the booking page's terms.

clinic.manage (owner only): the clinic's own identity on /settings, Clinic tab
(domain/practice/profile.py): its name, currency, country, public listing and logo.

fee.waive (owner and manager): waive a visit's late-cancel or no-show fee with a reason
(domain/payments/fees.py: what the fee took goes back to the client; audited).

outbox.read (system only): the `medspa outbox` print-out on the server's console
(messaging.service.list_outbox); no staff page uses it: staff read the outbox with outbox.manage.

waitlist.manage (staff who book, and the system's waitlist job): the waitlist per day, add a
client's wish at the desk, take one off, and offer a freed time (domain/waitlist). A visitor
joins from the booking page with appointment.book_online.

form.read (provider and owner only: never front desk, lab nor manager): read the answers of a
visit's intake forms (domain/clinical/forms.py visit_answers; each read audited). Everyone with
calendar.read sees only the completion words ("Forms 1/2", "Forms done").

form.fill (owner, manager, provider, front desk): hand a tablet to the client to fill a form of
their visit ("Fill with client": domain/clinical/forms.py submit_form with source "tablet"); the
tablet page starts blank and shows no other client data. The client fills their own forms in
the portal with portal.self.write.
consent.manage (owner and manager): the consent templates on /settings/consents
(domain/clinical/consent.py): edit a text (in place while unsigned, else a new version, audited)
and a service's own choice of the consents it requires.

consent.collect (owner, manager, provider, front desk): hand a tablet to a client to sign a
consent ("Sign with client", domain/clinical/consent_signing.py sign_consent; the signature
records who collected it) and see which consents a client still has to sign (titles only).

consent.read (provider and owner only: clinical content): a client's signed consents on the
profile and their PDFs (consent_signing.client_signatures / signature_pdf; every list and
download audited). Front desk, manager and lab see status words only ("Consents 1/2").

document.read (provider and owner only: never front desk, manager nor lab): the documents a
client uploaded in the portal (prior prescriptions, reports, images), listed and downloaded on
the client profile, each list and download audited (domain/clinical/documents.py). The client
uploads and reads own documents with portal.self.write / portal.self.read.

order.write (provider and owner): order a test of the catalog for a client, and review a
result (resulted -> reviewed, with a note the client then sees) (domain/clinical/orders.py).
result.read (provider and owner): a client's orders with their result values, notes and
files on the profile, and the "Results to review" list (domain/clinical/order_reads.py).

order.worklist.read / order.result.write (lab, and provider and owner, who run patch tests in
the clinic): the worklist /lab (client name and date of birth to identify the specimen, the
test, the status; no values, history, charts, consents nor documents), mark a sample
collected, record the result (ordered -> collected -> resulted) (domain/clinical/orders.py).
The test catalog itself is part of the clinic's set-up: settings.write.
The lab has no calendar.read (a user trial found lab@ landing on /calendar and reading the
whole day: client names, treatments, health flags); nothing /lab needs depends on it, and a
lab account signs in to /lab (medspa.web.auth.home_for). It keeps practice.read (locations).

history.read / history.write (provider and owner only: never front desk, lab nor manager):
read a client's medical history (allergies, medications, conditions, skin type, pregnancy...)
and its versions, every read audited, and change it section by section, each change a version
(domain/clinical/medical_history.py). Contraindication flags show their detail only with
history.read; other staff see "Health flag: a provider must review" (clinical/contraindications.py).
A portal client reads and updates their own history with portal.self.read / portal.self.write.

product.read (owner, manager, provider): the product catalog with its lots, stock left per
lot (low stock and expired flagged) and opened vials (domain/clinical/inventory.py: stock is
not health information; reads are not audited). product.manage (owner and manager: running
the business): add, edit, archive products and receive lots (audited). vial.open (owner,
manager, provider: whoever reconstitutes at the chair): open a vial of a lot (audited). A chart
line picks product, lot and vial with chart.write (the lot's usage is written at signing).

recall.read (owner and provider: clinical safety; never manager, front desk nor lab): the
recall screen /recall, "which clients received lot X" with their phone and email, visit date,
quantity and provider, and its CSV (domain/clinical/recall.py; one audit row per client listed).

Issue 18, who may treat and sign (domain/clinical/signing.py): chart.write also covers adding
an addendum under a signed chart and, for a staff member with a prescriber licence (MD, DO, NP,
PA), recording a client's good-faith exam / order (clinical/prescriber_orders.py); signing is the
visit's provider's (or any chart.write holder's when the owner lets covering providers sign).
chart.cosign (owner and provider): the medical-director review queue /reviews and the co-sign of
a chart signed by a non-prescriber (clinical/chart_review.py); the service also requires the
actor to be the clinic's medical director to co-sign (the owner sees the queue).

Issue 19, messages: message templates and reminder settings are settings.write (owner,
manager); campaign.manage (owner, manager): segments, campaigns and their results
(messaging/campaigns.py); inbound.read (everyone who books): the texts clients sent back,
flagged for the desk, and marking them handled (messaging/inbound.py).

Only actions some service enforces are listed (tests/test_permissions.py calls each one for
every role). Actions arrive with the feature that checks them."""

from __future__ import annotations

STAFF_ROLES = frozenset({"owner", "manager", "provider", "front_desk", "lab"})  # sign in at /login

STAFF_READ = {"calendar.read", "availability.read", "catalog.read", "practice.read"}
CHART = {"chart.read", "chart.write"}
COSIGN = {"chart.cosign"}  # the medical-director review queue (issue 18)
PHOTOS = {"photo.read", "photo.write"}
FORMS_READ = {"form.read"}
FORMS_FILL = {"form.fill"}
CONSENT_COLLECT = {"consent.collect"}
RECORDS = {"document.read", "order.write", "result.read"}  # clinical: provider and owner
LAB = {"order.worklist.read", "order.result.write"}  # the lab worklist
HISTORY = {"history.read", "history.write"}
BOOKING = {"appointment.book", "appointment.check_in", "appointment.cancel", "appointment.update_status",
           "appointment.reschedule",
           "client.read", "client.write", "client.contact.read", "block.write", "waitlist.manage", "inbound.read"}
DESK_MONEY = {"payment.take"}
STOCK = {"product.read", "vial.open"}  # owner, manager, provider (product.manage: owner and manager)
RECALL = {"recall.read"}  # owner and provider

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": frozenset(STAFF_READ | BOOKING | DESK_MONEY | {"refund.issue", "settings.write", "audit.read", "staff.manage",
                                                         "report.read", "jobs.read", "outbox.manage", "dispute.read",
                                                         "clinic.manage", "client.import", "client.merge", "fee.waive", "consent.manage",
                                                         "consent.read", "campaign.manage"} | CHART | COSIGN | PHOTOS | CONSENT_COLLECT | RECORDS | LAB | HISTORY
                       | FORMS_READ | FORMS_FILL | STOCK | {"product.manage"} | RECALL),
    "manager": frozenset(STAFF_READ | BOOKING | DESK_MONEY | {"refund.issue", "settings.write", "report.read",
                                                           "outbox.manage", "client.import", "client.merge", "fee.waive",
                                                           "consent.manage", "product.manage", "campaign.manage"} | CONSENT_COLLECT | FORMS_FILL | STOCK),
    "provider": frozenset(STAFF_READ | BOOKING | DESK_MONEY | CHART | COSIGN | PHOTOS | CONSENT_COLLECT | {"consent.read"} | RECORDS | LAB
                          | HISTORY | FORMS_READ | FORMS_FILL | STOCK | RECALL),
    "front_desk": frozenset(STAFF_READ | BOOKING | DESK_MONEY | CONSENT_COLLECT | FORMS_FILL),
    "lab": frozenset({"practice.read"} | LAB),  # the locations; no calendar.read: the lab lands on /lab
    # a portal client: only their own record and visits (services also check actor.client_id)
    "client": frozenset({"availability.read", "catalog.read", "appointment.book_online", "portal.self.read",
                         "portal.self.write", "appointment.cancel_own",
                         "appointment.reschedule_own"}),
    "public": frozenset({"availability.read", "catalog.read", "practice.read", "appointment.book_online",
                         "appointment.reschedule_own", "appointment.cancel_own"}),
    "system": frozenset(STAFF_READ | BOOKING | {"appointment.book_online", "refund.issue", "settings.write",
                                                "outbox.read"}),
}


def has_permission(role: str, action: str) -> bool:
    """True if `role` is granted `action`; unknown roles have no permissions."""
    return action in ROLE_PERMISSIONS.get(role, frozenset())
