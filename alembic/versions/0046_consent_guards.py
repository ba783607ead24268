"""Consent guards (issue 17, breaker findings): a signature names the exact text of its version.

A trigger on INSERT into consent_signature reads its version FOR SHARE and refuses the row
unless text_sha256 equals the version's sha256 and template_id the version's template. The
lock closes both orderings with an in-place edit of an unsigned version (0043's guard):
- the edit updated the version first: the insert waits for it, then sees the new hash and is
  refused (the signature would name text the signer did not see);
- the insert came first: the edit's UPDATE waits for the signing transaction, and 0043's
  guard then sees the committed signature and refuses the edit.

Revision ID: 0046
Revises: 0045
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0046'
down_revision: Union[str, None] = '0045'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

GUARD = """
create or replace function medspa_consent_signature_text_guard() returns trigger language plpgsql as $$
declare
  v record;
begin
  select template_id, sha256 into v from consent_version where id = new.version_id for share;
  if not found or v.sha256 is distinct from new.text_sha256 or v.template_id is distinct from new.template_id then
    raise exception 'consent_signature: text_sha256 does not match consent_version % (insert refused)',
      new.version_id using errcode = '23514';
  end if;
  return new;
end $$;
create trigger consent_signature_text_matches before insert on consent_signature
  for each row execute function medspa_consent_signature_text_guard();
"""


def upgrade() -> None:
    op.execute(GUARD)


def downgrade() -> None:
    op.execute("drop trigger if exists consent_signature_text_matches on consent_signature; "
               "drop function if exists medspa_consent_signature_text_guard();")
