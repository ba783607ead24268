"""Use cases of the contraindications editor on the service form (/settings): read and replace
one service's rules. settings.write (owner, manager: the service menu is theirs); a change is
audited "service.contraindications" with the old and new rules. One transaction each."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.clinical.contraindications import Rule, service_rules, set_service_rules
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.work import atomic, now_of

__all__ = ["do_set_service_rules", "fetch_service_rules"]


def _service(session, actor: Actor, service_id) -> Service:
    if not actor.can("settings.write") or isinstance(service_id, bool) or not isinstance(service_id, int):
        raise NotFound("service")
    svc = session.get(Service, service_id)
    if svc is None:
        raise NotFound("service")
    return svc


def fetch_service_rules(actor: Actor, service_id: int, *, engine: Engine | None = None) -> list[Rule]:
    """The service's contraindications. Raises NotFound (also without settings.write)."""
    with atomic(actor.org_id, engine=engine) as work:
        svc = _service(work.session, actor, service_id)
        return service_rules(work.session, [svc.id]).get(svc.id, [])


def do_set_service_rules(actor: Actor, service_id: int, rules: list[Rule], *, clock: Clock | None = None,
                         engine: Engine | None = None) -> list[Rule]:
    """Replace the service's contraindications (validated: ValidationFailed keyed
    "rules.<i>.<field>" changes nothing); audited with old and new. Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        svc = _service(work.session, actor, service_id)
        old = service_rules(work.session, [svc.id]).get(svc.id, [])
        new = set_service_rules(work.session, svc, rules)
        record(work.session, actor, "service.contraindications", "service", svc.id, at=now_of(clock),
               old=[r.label for r in old], new=[r.label for r in new])
        return new
