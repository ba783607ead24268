"""Import every table so SQLModel.metadata is complete (Alembic, tests)."""

from medspa.domain.audit.models import AuditEvent
from medspa.domain.catalog.models import Service, ServiceProvider
from medspa.domain.clients.models import Client
from medspa.domain.clinical.models import TreatmentLine, TreatmentNote
from medspa.domain.clinical.photos import ClinicalPhoto
from medspa.domain.identity.models import LoginChallenge, PasswordResetToken, RecoveryCode, UserAccount, UserSession
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.models import LedgerEntry, Payment, Refund, TestGatewayCharge, WebhookEvent
from medspa.domain.practice.models import Location, Organization, Resource, StaffMember, WorkingHours
from medspa.domain.scheduling.models import Appointment, Occupancy
from medspa.domain.scheduling.watch import CalendarWatch

__all__ = [
    "Appointment", "AuditEvent", "CalendarWatch", "Client", "ClinicalPhoto", "LedgerEntry", "Location", "LoginChallenge", "Occupancy",
    "Organization", "OutboxMessage", "PasswordResetToken", "Payment", "RecoveryCode", "Refund", "Resource", "Service",
    "ServiceProvider", "StaffMember",
    "TestGatewayCharge", "TreatmentLine", "TreatmentNote", "UserAccount", "UserSession", "WebhookEvent", "WorkingHours",
]

TENANT_TABLES = [
    "location", "staff_member", "working_hours", "resource", "service", "service_provider",
    "client", "appointment", "occupancy", "payment", "refund", "ledger_entry", "webhook_event",
    "test_gateway_charge", "outbox_message", "audit_event", "user_account", "user_session",
    "calendar_watch", "user_recovery_code", "login_challenge", "password_reset_token",
    "treatment_note", "treatment_line", "clinical_photo",
]
