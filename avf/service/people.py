"""People and their roles, as the rest of the service sees them.

Roles are scoped: `("lyon", "admin")` is the city admin of Lyon; the national webmaster's
role is `(NETWORK, "webmaster")`. A person may hold roles in several cities. Every check
is made on the server, on every request (see auth.require_role).
"""

from __future__ import annotations

from dataclasses import dataclass

from avf.store.schema import NETWORK

ROLES = ("webmaster", "admin", "reporter", "member")
CITY_ROLES = ("admin", "reporter", "member")
# What a role includes: a city admin may do what a reporter or a member may, and so on.
INCLUDES = {"admin": {"admin", "reporter", "member"}, "reporter": {"reporter", "member"},
            "member": {"member"}}
# How pages and the `avf users` command name each role.
ROLE_LABELS = {"webmaster": "Webmaster national", "admin": "Responsable",
               "reporter": "Rédacteur·rice", "member": "Adhérent·e"}


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    display_name: str
    roles: frozenset[tuple[str, str]]  # (city slug or NETWORK, role)

    @property
    def is_webmaster(self) -> bool:
        return (NETWORK, "webmaster") in self.roles

    def can(self, role: str, city: str) -> bool:
        """Whether this person may act as `role` in `city` (the webmaster may everywhere)."""
        if self.is_webmaster:
            return True
        return any(held_city == city and role in INCLUDES.get(held, set())
                   for held_city, held in self.roles)

    def cities(self, role: str = "member") -> list[str]:
        """The cities where this person may act as `role`, sorted."""
        return sorted({city for city, held in self.roles
                       if city != NETWORK and role in INCLUDES.get(held, set())})

    @property
    def greeting_name(self) -> str:
        return self.display_name or self.email.partition("@")[0]
