"""The one place that reads the environment.

Every setting has a default that runs the whole app on one laptop (embedded PostgreSQL,
local media folder, offline test payments). Production swaps each default for a service by
setting the variable named in the field's alias (see the README's settings table).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Runtime configuration, read once from the environment (no prefix)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    # database: empty means "use the embedded server in var_dir/pg"
    database_url: str = Field("", description="App role URL (NOSUPERUSER NOBYPASSRLS).")
    database_owner_url: str = Field("", description="Schema owner URL, migrations only.")
    var_dir: Path = Field(PROJECT_ROOT / "var", description="Embedded database, media, caches.")
    backup_database_url: str = Field("", description="`medspa backup` / `restore` on an external server: a role "
                                                     "that reads every clinic's rows (superuser, or BYPASSRLS and "
                                                     "member of the schema owner); empty: DATABASE_OWNER_URL.")
    pg_bin_dir: str = Field("", description="Folder of pg_dump / pg_restore matching an external server's major "
                                            "version; empty: PATH (the embedded server uses its own).")

    # web
    port: int = 3000
    public_base_url: str = Field("", description="Base URL printed in links; default http://localhost:PORT.")
    api_cors_origins: str = Field(
        "", description="Comma-separated origins (or *) whose pages may call the public booking API "
                        "(/api/v1/{clinic}/...) from the browser, e.g. the clinic's website; empty: none.")
    redis_url: str = Field("", description="Redis for Reflex state; required for several workers.")
    trusted_proxy_hops: int = Field(0, description="Reverse proxies in front of the app that append the client's "
                                                   "address to X-Forwarded-For (0: none; the socket's peer is the "
                                                   "client). Abuse limits and the audit trail key on that address.")
    web_workers: int = Field(1, description="Backend worker processes (needs REDIS_URL when > 1).")

    # jobs
    in_process_worker: bool = Field(True, description="`medspa serve` runs one job worker in its parent process; "
                                                      "false when `medspa worker` processes run the jobs.")
    job_stalled_after_seconds: float = Field(
        30.0, ge=3, description="A worker silent this long (no heartbeat) is gone: its running jobs are retried. "
                                "Workers send heartbeats every third of it (at most every 10 s).")

    # email (empty SMTP_HOST: nothing is sent; messages stay in the outbox, "not sent: no mail server set up")
    smtp_host: str = Field("", description="SMTP server; empty keeps email in the in-app outbox.")
    smtp_port: int = Field(587, description="SMTP port (587 STARTTLS, 465 TLS, 25 none).")
    smtp_security: Literal["starttls", "tls", "none"] = Field("starttls", description="starttls, tls or none.")
    smtp_user: str = Field("", description="SMTP login; empty: no AUTH.")
    smtp_password: str = ""
    mail_from_name: str = Field("", description="Sender name; empty: the clinic's name.")
    mail_from_address: str = Field("no-reply@localhost", description="Sender address (the envelope sender too).")
    smtp_timeout_seconds: float = Field(30.0, description="Connect and command timeout of one delivery.")

    # SMS through Twilio's REST API (empty account or token: nothing is sent; SMS stay in the outbox,
    # "not sent: no SMS provider set up")
    twilio_account_sid: str = Field("", description="Twilio Account SID (AC...); empty keeps SMS in the outbox.")
    twilio_auth_token: str = Field("", description="Twilio Auth Token: the API's basic-auth password and the "
                                                   "key of the status callbacks' X-Twilio-Signature.")
    twilio_from_number: str = Field("", description="Deployment's default SMS sender (E.164), used when neither "
                                                    "the location nor the clinic has its own number.")
    twilio_api_base: str = Field("https://api.twilio.com", description="Twilio's REST API host (tests use a "
                                                                       "local fake).")
    twilio_timeout_seconds: float = Field(15.0, description="Connect and read timeout of one Twilio request.")

    # payments
    stripe_secret_key: str = ""
    stripe_publishable_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = Field("", description="Override Stripe's API host (tests use a local fake).")

    # media
    s3_bucket: str = ""
    s3_endpoint_url: str = Field("", description="An S3-compatible server instead of AWS (e.g. MinIO); empty: AWS.")
    media_dir: Path | None = None
    image_processing_concurrency: int = Field(
        2, ge=1, description="Photo uploads decoded at once per process (the others wait): each holds ~4 bytes "
                             "per pixel, ~200 MB for a 50 MP photo.")

    # behaviour
    hold_minutes: int = Field(10, description="How long a slot hold lasts while a client pays.")
    reconcile_grace_seconds: int = Field(
        120, description="Reconciliation leaves a payment alone until this long after its hold expires (or after "
                         "it was created, whichever is later), so it never races a booking still in flight.")
    session_hours: int = Field(12, description="Absolute lifetime of a staff session.")
    secret_key: str = Field("", description="Key encrypting stored TOTP secrets (any long random string); "
                                            "empty: VAR_DIR/secret_key, created on first use.")
    demo_seed: bool = Field(True, description="Load the demo clinic when the database is empty.")

    # abuse limits (medspa/domain/ratelimits.py; `limits` notation "N/period", "" switches one off)
    limit_booking_per_ip: str = Field("20/hour", description="Online bookings tried from one IP address, per clinic.")
    limit_booking_per_email: str = Field("6/hour", description="Online bookings tried for one client email, per clinic.")
    max_open_holds_per_ip: int = Field(3, description="Slots one IP address may hold at once while paying, per clinic (0: no limit).")
    max_open_holds_per_client: int = Field(2, description="Slots one client email may hold at once while paying (0: no limit).")
    limit_manage_per_ip: str = Field("30/hour", description="Changes (move, cancel) through booking manage links "
                                                           "from one IP address, per clinic.")
    limit_manage_per_token: str = Field("10/hour", description="Changes (move, cancel) through one booking's manage link.")
    limit_portal_code_per_ip: str = Field("10/hour", description="Portal sign-in codes asked from one IP address.")
    limit_reset_per_ip: str = Field("10/hour", description="Password-reset links asked from one IP address.")
    limit_reset_per_email: str = Field("3/hour", description="Password-reset links sent for one email (silently "
                                                             "not sent beyond, so accounts cannot be probed).")
    limit_second_factor_failures: str = Field("20/15 minutes", description="Wrong two-factor codes of one "
                                              "account from all networks together (its password is known then).")
    limit_sign_in_per_ip: str = Field("30/15 minutes", description="Failed sign-in attempts from one network (IPv6: its /64).")
    log_sql: bool = False
    frozen_now: str = Field("", description="ISO-8601 instant the app treats as now (browser tests, demos).")

    @property
    def uses_embedded_db(self) -> bool:
        """True when no DATABASE_URL is set and the embedded server is used."""
        return not self.database_url

    @property
    def base_url(self) -> str:
        """Public base URL without trailing slash."""
        return (self.public_base_url or f"http://localhost:{self.port}").rstrip("/")

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        """Origins allowed to talk to this server (websocket, login/logout POSTs, CORS).

        Same origin only: the public URL, and localhost / 127.0.0.1 on the port (the same
        machine, but different origins for a browser).
        """
        return tuple(sorted({self.base_url, f"http://localhost:{self.port}", f"http://127.0.0.1:{self.port}"}))

    @property
    def https(self) -> bool:
        """True when the public URL is https (Secure cookies, HSTS)."""
        return self.base_url.startswith("https://")

    @property
    def mail_enabled(self) -> bool:
        """Email leaves through SMTP (SMTP_HOST set); else it stays in the in-app outbox."""
        return bool(self.smtp_host)

    @property
    def sms_enabled(self) -> bool:
        """SMS leave through Twilio (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN set); else they stay
        in the in-app outbox. The sender number is resolved per message (location, clinic,
        TWILIO_FROM_NUMBER)."""
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def stripe_enabled(self) -> bool:
        """Stripe Elements on the booking page (both keys set); else the offline test gateway."""
        return bool(self.stripe_secret_key and self.stripe_publishable_key)

    @property
    def media_root(self) -> Path:
        """Folder for private media when no S3 bucket is set."""
        return self.media_dir or (self.var_dir / "media")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own Settings objects)."""
    return Settings()


def export_env(**values: str) -> None:
    """Set environment variables for this process and its children.

    The one sanctioned write: the embedded PostgreSQL library and Reflex read their own
    variables (XDG_RUNTIME_DIR, REFLEX_*), so the launcher hands values on through here.
    """
    import os

    os.environ.update({k: str(v) for k, v in values.items()})
