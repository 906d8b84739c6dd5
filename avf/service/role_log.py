"""The audit log of role changes (`role_changes`): who gave or took which role, when.

Teams of volunteers change every few years; the newcomers, their predecessors and the
webmaster must be able to see who made whom a responsable. Every change of a role writes
one row, inside the caller's transaction, from the low-level functions that change roles
(accounts.grant_role / revoke_role, membership.suspend / reinstate): a role can change
nowhere without its row. Names are snapshots (the display name, or the address when there
is none): the log stays readable once an account is gone. It is shown only to the city's
admins and the webmaster.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, insert, select, update

from avf.service.people import ROLE_LABELS, Person
from avf.store.schema import people, role_changes

ACTIONS = ("granted", "revoked", "suspended", "reinstated", "invited", "handed_over")
COMMAND_LINE = "ligne de commande"  # how a change with no person behind it is named
DELETED_ACCOUNT = "compte supprimé"
PAGE_SIZE = 50


@dataclass(frozen=True)
class RoleChange:
    """One row of the log, as pages show it."""

    id: int
    city: str
    person_id: int | None
    person_name: str
    role: str
    action: str
    by_person_id: int | None
    by_name: str  # "" when made from the command line
    note: str
    created_at: datetime

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def sentence(self) -> str:
        """« Marie D. a donné le rôle Responsable à Paul M. » (without the date)."""
        role, who = self.role_label, self.person_name
        by = self.by_name
        if not by:
            passive = {"granted": f"Le rôle {role} a été donné à {who}",
                       "revoked": f"Le rôle {role} a été retiré à {who}",
                       "suspended": f"Le rôle {role} de {who} a été suspendu",
                       "reinstated": f"Le rôle {role} de {who} a été rétabli",
                       "invited": f"{who} a été invité·e comme {role}",
                       "handed_over": f"{who} a passé la main et quitte le rôle {role}"}
            return f"{passive.get(self.action, self.action)} ({COMMAND_LINE})."
        if self.action == "handed_over":
            if self.by_person_id is not None and self.by_person_id == self.person_id:
                return f"{by} a passé la main et quitte le rôle {role}."
            return f"{by} a passé la main pour {who}, qui quitte le rôle {role}."
        active = {"granted": f"{by} a donné le rôle {role} à {who}",
                  "revoked": f"{by} a retiré le rôle {role} à {who}",
                  "suspended": f"{by} a suspendu le rôle {role} de {who}",
                  "reinstated": f"{by} a rétabli le rôle {role} de {who}",
                  "invited": f"{by} a invité {who} comme {role}"}
        return f"{active.get(self.action, self.action)}."


def name_of(person: Person) -> str:
    return person.display_name or person.email


def record_role_change(connection: Connection, city: str, person_id: int, role: str,
                       action: str, by: Person | None = None, note: str = "",
                       now: datetime | None = None) -> None:
    """Write one row of the log: `action` on `role` in `city` for the person, made by `by`
    (None: the command line, or the service itself)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown role change {action!r}")
    row = connection.execute(select(people.c.email, people.c.display_name)
                             .where(people.c.id == person_id)).first()
    person_name = (row.display_name or row.email) if row is not None else ""
    connection.execute(insert(role_changes).values(
        city=city, person_id=person_id, person_name=person_name[:320], role=role,
        action=action, by_person_id=None if by is None else by.id,
        by_name="" if by is None else name_of(by)[:320], note=note[:300],
        created_at=now or datetime.now(UTC)))


def forget_address(connection: Connection, person_id: int, email: str) -> None:
    """An account is being deleted: the log keeps its rows, but no longer its address
    (rows naming the person by their address say « compte supprimé » instead)."""
    connection.execute(update(role_changes).where(role_changes.c.person_id == person_id,
                                                  role_changes.c.person_name == email)
                       .values(person_name=DELETED_ACCOUNT))
    connection.execute(update(role_changes).where(role_changes.c.by_person_id == person_id,
                                                  role_changes.c.by_name == email)
                       .values(by_name=DELETED_ACCOUNT))


def role_changes_of(connection: Connection, city: str | None, page: int = 1,
                    size: int = PAGE_SIZE) -> tuple[list[RoleChange], int]:
    """One page of the log (of `city`, or of the whole network for None), newest first,
    and how many rows there are in all."""
    condition = [] if city is None else [role_changes.c.city == city]
    total = connection.execute(select(func.count()).select_from(role_changes)
                               .where(*condition)).scalar_one()
    rows = connection.execute(
        select(role_changes).where(*condition)
        .order_by(role_changes.c.created_at.desc(), role_changes.c.id.desc())
        .limit(size).offset((max(page, 1) - 1) * size)).mappings().all()
    return [RoleChange(**row) for row in rows], int(total)
