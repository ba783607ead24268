"""Signed, versioned consent: templates, their versions, the per-service choice, signatures.

consent_template: one consent a clinic uses (built-in key such as "neuromodulator" or
"photo_use"); consent_version: one immutable-once-signed text of it (title + body, SHA-256 of
the exact text shown, see consent.consent_text); service_consent: a service's own choice for
one template (required or not), overriding the category default; consent_signature: one
signature of one version by one client (append-only: the database refuses any change but a
merge's move of client_id, and any delete; migration 0043; its text_sha256 must equal its
version's sha256 at insert: migration 0046).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp


class ConsentTemplate(SQLModel, table=True):
    """A consent the clinic asks for (kind "treatment" or "photo_use"); unique key per clinic."""

    __tablename__ = "consent_template"
    __table_args__ = (UniqueConstraint("org_id", "key", name="uq_consent_template_key"),)
    id: int | None = pk()
    org_id: int = org_fk()
    key: str = Field(sa_column=Column(String(40), nullable=False))
    kind: str = Field(default="treatment", sa_column=Column(String(12), nullable=False))
    created_at: datetime = tstamp(nullable=False)


class ConsentVersion(SQLModel, table=True):
    """One text of a template. Editable in place until someone signs it; then read-only."""

    __tablename__ = "consent_version"
    __table_args__ = (UniqueConstraint("org_id", "template_id", "version", name="uq_consent_version"),)
    id: int | None = pk()
    org_id: int = org_fk()
    template_id: int = fk("consent_template.id")
    version: int = Field(sa_column=Column(Integer, nullable=False))
    title: str = Field(sa_column=Column(String(120), nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = tstamp(nullable=False)
    updated_at: datetime = tstamp(nullable=False)
    edited_by: str = Field(default="", sa_column=Column(String(200), nullable=False))


class ServiceConsent(SQLModel, table=True):
    """A service's own choice for one template (required or not), instead of the category default."""

    __tablename__ = "service_consent"
    __table_args__ = (UniqueConstraint("org_id", "service_id", "template_id", name="uq_service_consent"),)
    id: int | None = pk()
    org_id: int = org_fk()
    service_id: int = fk("service.id")
    template_id: int = fk("consent_template.id")
    required: bool = Field(sa_column=Column(Boolean, nullable=False))


class ConsentSignature(SQLModel, table=True):
    """One signed consent: who, when, from where, which version and the hash of the text shown,
    how (drawn / typed), the signature image and the PDF (media store keys)."""

    __tablename__ = "consent_signature"
    id: int | None = pk()
    org_id: int = org_fk()
    client_id: int = fk("client.id")
    template_id: int = fk("consent_template.id")
    version_id: int = fk("consent_version.id")
    appointment_id: int | None = fk("appointment.id", nullable=True)
    signed_at: datetime = tstamp(nullable=False)
    method: str = Field(sa_column=Column(String(8), nullable=False))  # drawn | typed
    typed_name: str = Field(default="", sa_column=Column(String(120), nullable=False))
    signer: str = Field(sa_column=Column(String(8), nullable=False))  # portal | tablet
    collected_by_user_id: int | None = fk("user_account.id", nullable=True, index=False)
    collected_by: str = Field(default="", sa_column=Column(String(200), nullable=False))
    choice: str = Field(default="", sa_column=Column(String(12), nullable=False))  # photo use: clinical | marketing
    ip: str = Field(default="", sa_column=Column(String(64), nullable=False))
    user_agent: str = Field(default="", sa_column=Column(String(400), nullable=False))
    text_sha256: str = Field(sa_column=Column(String(64), nullable=False))
    signature_key: str = Field(default="", sa_column=Column(String(200), nullable=False))
    pdf_key: str = Field(sa_column=Column(String(200), nullable=False))
    pdf_sha256: str = Field(sa_column=Column(String(64), nullable=False))
