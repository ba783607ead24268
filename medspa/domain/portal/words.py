"""The words of the portal's "Record access" list: who (role label) did what (action words).

One place for them (moved out of portal/service.py in issue 17, where every clinical piece adds
its actions): an audit action without words here is shown as its dotted name, capitalised.
"""

from __future__ import annotations

ROLE_LABELS = {"owner": "Owner", "manager": "Manager", "provider": "Provider", "front_desk": "Front desk",
               "lab": "Lab", "system": "Clinic system", "public": "Website", "client": "You, in the portal"}
ACTION_WORDS = {
    "client.create": "Created your client record",
    "client.read": "Viewed your client record",
    "client.update": "Changed your details",
    "client.consent_update": "Changed your marketing preferences",
    "appointment.book": "Booked an appointment for you",
    "appointment.hold": "Held a time for your booking",
    "appointment.confirm": "Confirmed your appointment",
    "appointment.release": "Released a held time",
    "appointment.cancel": "Cancelled an appointment",
    "appointment.check_in": "Checked you in",
    "appointment.complete": "Marked a visit as completed",
    "appointment.no_show": "Marked a visit as missed",
    "appointment.reschedule": "Moved an appointment",
    "payment.pending": "Started a payment",
    "payment.succeeded": "Took a payment",
    "payment.failed": "Recorded a payment that was not charged",
    "payment.reconciled": "Settled a payment",
    "payment.declined": "Recorded a declined card",
    "payment.requires_action": "Asked for card verification",
    "refund.issue": "Refunded a payment",
    "refund.failed": "Tried to refund a payment",
    "chart.read": "Viewed your treatment chart",
    "chart.write": "Wrote in your treatment chart",
    "photo.read": "Viewed your photos",
    "form.read": "Viewed your intake form answers",
    "form.submit": "Received an intake form you filled in",
    "history.read": "Viewed your medical history",
    "history.versions.read": "Viewed the changes to your medical history",
    "history.write": "Updated your medical history",
    "history.flags.read": "Checked your medical history for a treatment",
    "health.override": "Went ahead with a treatment despite a health flag, with a reason",
    "consent.sign": "Recorded your signed consent",
    "consent.read": "Viewed your signed consents",
    "consent.download": "Downloaded a signed consent (PDF)",
    "document.add": "Uploaded a document",
    "document.read": "Viewed your documents",
    "order.create": "Ordered a test for you",
    "order.collect": "Collected the sample for your test",
    "order.result": "Recorded your test result",
    "order.review": "Reviewed your test result",
    "result.read": "Viewed your test results",
    "order.worklist.read": "Saw your test on the lab worklist",
    "portal.code_request": "A portal sign-in code was requested",
    "portal.sign_in": "Signed in to the portal",
    "portal.sign_out": "Signed out of the portal",
    "portal.code_rejected": "A wrong portal sign-in code was entered",
    "portal.code_throttled": "Too many portal sign-in codes were requested",
}
