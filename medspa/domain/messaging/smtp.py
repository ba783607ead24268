"""The SMTP adapter: one email, built (text + HTML parts, then its attachments) and handed to the
server with smtplib.

What the server answers decides what happens next (domain.messaging.delivery):
- 250: accepted; `send_email` returns the server's answer (kept as provider_id).
- 5xx: PermanentFailure, never retried. A hard bounce marks the address (suppress=True, see
  `is_hard_bounce`): a 5xx to RCPT TO saying the mailbox does not exist or is unusable
  (550 / 551 / 553, or an RFC 3463 enhanced status 5.1.x about the recipient or 5.2.1).
  A 5xx to DATA (content refused: spam filter, size, policy), to MAIL FROM (our sender
  refused) or a policy refusal of the recipient (5.7.x: relaying denied, blocklisted sender)
  fails the message without marking the address: the next message may well get through.
- 4xx, a dropped connection, a timeout, a refused connect: TemporaryFailure, retried by the job.
"""

from __future__ import annotations

import html
import re
import smtplib
import ssl
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from datetime import datetime
from email.utils import format_datetime, formataddr

from medspa.domain.messaging.attachments import Attachment
# the failures live in messaging.failures (shared with the SMS adapter); importable from here too
from medspa.domain.messaging.failures import DeliveryFailure, PermanentFailure, TemporaryFailure  # noqa: F401
from medspa.settings import Settings


# CRLF on the wire (smtplib sends bytes as given); headers folded only past RFC 5322's hard
# limit: CPython folds some 78+ character subjects as "Subject:" + an indented line, which
# readers show with a leading space
WIRE = policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class Email:
    """One email as the adapter sends it."""

    from_name: str
    from_address: str
    to: str
    subject: str
    text: str
    message_id: str
    reply_to: str | None = None
    # files sent with it (messaging.attachments.Attachment: filename, content_type, content)
    attachments: tuple[Attachment, ...] = ()
    # the Date header (RFC 5322 3.6.1 requires one): the hand-over instant, aware UTC
    date: datetime | None = None
    # a marketing email's unsubscribe link: List-Unsubscribe (RFC 2369) with
    # List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058); "" for a transactional one
    list_unsubscribe: str = ""


def html_of(text: str) -> str:
    """The HTML part of a plain-text body: escaped, paragraphs and line breaks kept."""
    paragraphs = [html.escape(p).replace("\n", "<br>\n") for p in text.split("\n\n")]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f'<!doctype html>\n<html><body style="font-family: sans-serif">\n{body}\n</body></html>\n'


def _add_attachment(msg: EmailMessage, attachment: Attachment) -> None:
    """One file as a part of its own: Content-Type with the stored parameters (an .ics:
    text/calendar; charset=utf-8; method=PUBLISH), Content-Disposition attachment with the
    filename, base64 (the stored bytes arrive unchanged, CRLF line ends included)."""
    header = Message()
    header["Content-Type"] = attachment.content_type
    maintype, subtype = header.get_content_maintype(), header.get_content_subtype()
    params = dict(header.get_params()[1:])
    if maintype == "text":
        params.setdefault("charset", "utf-8")
    msg.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename,
                       params=params)


def build_message(email: Email) -> EmailMessage:
    """The MIME message: multipart/alternative with a text and an HTML part; with attachments,
    multipart/mixed around that alternative, then one part per file (Content-Disposition
    attachment; filename=...)."""
    msg = EmailMessage()
    msg["From"] = formataddr((email.from_name, email.from_address))
    msg["To"] = email.to
    if email.reply_to:
        msg["Reply-To"] = email.reply_to
    msg["Subject"] = email.subject
    msg["Message-ID"] = email.message_id
    if email.date is not None:
        msg["Date"] = format_datetime(email.date)
    if email.list_unsubscribe:
        msg["List-Unsubscribe"] = f"<{email.list_unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(email.text)
    msg.add_alternative(html_of(email.text), subtype="html")
    for attachment in email.attachments:
        _add_attachment(msg, attachment)
    return msg


def _reason(code: int, message: bytes | str) -> str:
    text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
    return f"{code} {text}".strip()


def _connect(settings: Settings) -> smtplib.SMTP:
    timeout = settings.smtp_timeout_seconds
    if settings.smtp_security == "tls":
        return smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=timeout,
                                context=ssl.create_default_context())
    server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    if settings.smtp_security == "starttls":
        server.starttls(context=ssl.create_default_context())
    return server


# RFC 3463 enhanced status code at the start of the reply text: class.subject.detail
_ENHANCED = re.compile(r"\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
_HARD_BOUNCE_CODES = (550, 551, 553)  # RFC 5321 4.2.2: mailbox unavailable, user not local, name not allowed
_SENDER_DETAILS = ("7", "8")  # 5.1.7 / 5.1.8: the sender's address, not the recipient's (RFC 3463 3.2)


def is_hard_bounce(code: int, text: str) -> bool:
    """Whether a refusal of RCPT TO (reply `code`, reply `text`) says the recipient's mailbox is
    undeliverable for good, so the address is marked. With an RFC 3463 enhanced status code in
    `text`, that decides: 5.1.x (addressing: bad mailbox 5.1.1, bad system 5.1.2, bad syntax
    5.1.3, moved 5.1.6, ...; not 5.1.7 / 5.1.8, which are about the sender) and 5.2.1 (mailbox
    disabled) are hard bounces; 5.7.x (policy, e.g. relaying denied) and the rest are not.
    Without one, the basic RFC 5321 codes 550, 551 and 553 are. A 4xx never is."""
    if not 500 <= code < 600:
        return False
    enhanced = _ENHANCED.match(text or "")
    if enhanced is None:
        return code in _HARD_BOUNCE_CODES
    klass, subject, detail = enhanced.groups()
    return klass == "5" and ((subject == "1" and detail not in _SENDER_DETAILS) or (subject, detail) == ("2", "1"))


def _raise_for(settings: Settings, exc: smtplib.SMTPException) -> None:
    bounce = False
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, message = next(iter(exc.recipients.values()))
        bounce = is_hard_bounce(code, message.decode(errors="replace") if isinstance(message, bytes) else str(message))
    elif isinstance(exc, smtplib.SMTPResponseException):  # MAIL FROM or DATA refused: not the address's fault
        code, message = exc.smtp_code, exc.smtp_error
    elif isinstance(exc, smtplib.SMTPServerDisconnected):
        raise TemporaryFailure(disconnect_problem(settings, exc)) from exc
    else:
        raise TemporaryFailure(str(exc) or type(exc).__name__) from exc
    if 500 <= code < 600:
        raise PermanentFailure(_reason(code, message), suppress=bounce) from exc
    raise TemporaryFailure(_reason(code, message)) from exc


def send_email(settings: Settings, email: Email) -> str:
    """Hand `email` to the server of `settings`; returns the server's answer to the data
    (its queue id, kept as provider_id). Raises PermanentFailure or TemporaryFailure."""
    msg = build_message(email)
    try:
        with _connect(settings) as server:
            server.ehlo_or_helo_if_needed()
            if settings.smtp_user:
                server.login(settings.smtp_user, settings.smtp_password)
            server.mail(email.from_address)
            code, answer = server.rcpt(email.to)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({email.to: (code, answer)})
            code, answer = server.data(msg.as_bytes(policy=WIRE))
            if code != 250:
                raise smtplib.SMTPDataError(code, answer)
            return _reason(code, answer)[:250]
    except smtplib.SMTPException as exc:
        _raise_for(settings, exc)
        raise  # unreachable: _raise_for always raises
    except OSError as exc:  # refused connect, timeout, TLS failure
        raise TemporaryFailure(connection_problem(settings, exc)) from exc


def disconnect_problem(settings: Settings, exc: smtplib.SMTPServerDisconnected) -> str:
    """Why the conversation with the mail server of `settings` ended early, in an owner's words."""
    server = f"the mail server {settings.smtp_host}:{settings.smtp_port}"
    if "timed out" in str(exc):
        return f"{server} did not answer within {settings.smtp_timeout_seconds:g} s"
    return f"{server} closed the connection ({exc})" if str(exc) else f"{server} closed the connection"


def connection_problem(settings: Settings, exc: OSError) -> str:
    """Why the mail server of `settings` could not be reached, in words an owner reads on the
    outbox page ("the mail server smtp.example.com:587 refused the connection")."""
    server = f"the mail server {settings.smtp_host}:{settings.smtp_port}"
    if isinstance(exc, ConnectionRefusedError):
        return f"{server} refused the connection"
    if isinstance(exc, TimeoutError):
        return f"{server} did not answer within {settings.smtp_timeout_seconds:g} s"
    if isinstance(exc, ssl.SSLError):
        return f"TLS with {server} failed ({exc.reason or exc})"
    return f"could not reach {server} ({exc.strerror or exc})"
