"""Import every table so SQLModel.metadata is complete (Alembic, tests)."""

from medspa.domain.analytics.models import ClientFirstVisit
from medspa.domain.audit.models import AuditEvent
from medspa.domain.catalog.models import Service, ServiceProvider
from medspa.domain.clients.models import Client, ClientMerge
from medspa.domain.clinical.form_models import FormResponse
from medspa.domain.clinical.consent_models import ConsentSignature, ConsentTemplate, ConsentVersion, ServiceConsent
from medspa.domain.clinical.models import TreatmentLine, TreatmentNote
from medspa.domain.clinical.device_models import TreatmentSetting
from medspa.domain.clinical.product_models import LotUsage, Product, ProductLot, ProductVial
from medspa.domain.clinical.signing_models import ChartAddendum, ChartCosign, PrescriberOrder
from medspa.domain.clinical.photos import ClinicalPhoto
from medspa.domain.clinical.documents import ClientDocument
from medspa.domain.clinical.lab_tests import LabTest
from medspa.domain.clinical.orders import LabOrder
from medspa.domain.clinical.health_models import HealthOverride, MedicalHistoryVersion, ServiceContraindication
from medspa.domain.identity.models import LoginChallenge, PasswordResetToken, RecoveryCode, UserAccount, UserSession
from medspa.domain.messaging.models import ContactSuppression, OutboxAttachment, OutboxMessage
from medspa.domain.messaging.engage_models import Campaign, CampaignRecipient, InboundMessage, MessageTemplate
from medspa.domain.payments.models import Dispute, LedgerEntry, Payment, Refund, TestGatewayCharge, WebhookEvent
from medspa.domain.practice.models import ClinicLogo, Location, Organization, Resource, StaffMember, WorkingHours
from medspa.domain.practice.shifts import StaffTimeOff
from medspa.domain.practice.opening_models import LocationClosure, LocationHours
from medspa.domain.scheduling.models import Appointment, AppointmentSeries, CalendarFeed, Occupancy
from medspa.domain.scheduling.watch import CalendarWatch
from medspa.domain.waitlist.models import WaitlistEntry, WaitlistOffer

__all__ = [
    "Appointment", "AppointmentSeries", "AuditEvent", "Campaign", "CampaignRecipient", "CalendarFeed", "CalendarWatch", "Client", "ClientDocument", "ClientFirstVisit", "ClientMerge", "ClinicLogo", "ClinicalPhoto", "ConsentSignature", "ConsentTemplate", "ConsentVersion", "ContactSuppression", "Dispute", "FormResponse", "LabOrder", "LabTest", "LedgerEntry", "Location", "LotUsage", "Product", "ProductLot", "ProductVial", "LocationClosure", "LocationHours", "LoginChallenge", "Occupancy",
    "Organization", "OutboxAttachment", "OutboxMessage", "PasswordResetToken", "Payment", "RecoveryCode", "Refund", "Resource", "Service",
    "ServiceConsent", "ServiceProvider", "StaffMember", "StaffTimeOff",
    "HealthOverride", "InboundMessage", "MessageTemplate", "MedicalHistoryVersion", "ServiceContraindication",
    "TestGatewayCharge", "TreatmentLine", "TreatmentNote", "TreatmentSetting", "UserAccount", "UserSession", "WaitlistEntry", "WaitlistOffer", "WebhookEvent",
    "WorkingHours",
]

# Which tables are tenant tables is read from the catalog (tests/test_tenancy.py): every table
# with an org_id, protected by medspa.tenancy.protect_tenant_table in its migration.
