"""How a delivery attempt can fail, for every channel (the SMTP and the Twilio adapters raise
these; domain.messaging.actions decides what happens next):

- PermanentFailure: the provider refused for good. The message becomes `failed` with the
  provider's reason and is never retried. `suppress` is True when the refusal is about the
  address or number itself (a hard bounce, an invalid or opted-out number): the contact is
  then marked undeliverable (a contact_suppression row, in the failure's transaction) and
  every later message to it fails at its claim without contacting the provider. `opt_out`:
  the refusal says the recipient replied STOP (Twilio 21610): the number is marked
  'opted_out' instead, which only the client's START lifts (messaging.suppression).
- TemporaryFailure: try again later (SMTP 4xx, HTTP 429 / 5xx, a timeout, a refused
  connection): the message goes back to `queued` and the job retries with back-off.
"""

from __future__ import annotations


class DeliveryFailure(Exception):
    """A delivery that did not go through; `reason` is the provider's answer (or the error),
    at most 1000 characters (outbox_message.failure_reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:1000]


class PermanentFailure(DeliveryFailure):
    """The provider refused for good: do not retry. `suppress`: the address or number itself
    is undeliverable (mark it; see the module); `opt_out`: it opted out (mark it 'opted_out')."""

    def __init__(self, reason: str, *, suppress: bool = False, opt_out: bool = False) -> None:
        super().__init__(reason)
        self.suppress = suppress or opt_out
        self.opt_out = opt_out


class TemporaryFailure(DeliveryFailure):
    """Try again later (SMTP 4xx, HTTP 429 / 5xx, connection trouble, a timeout)."""
