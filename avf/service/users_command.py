"""`avf users`: accounts and roles from the terminal — how the first webmaster is made,
before any page can be used to make others.

    avf users add elise@exemple.fr --role webmaster
    avf users add paul@exemple.fr --role admin --city lyon --name "Paul Martin"
    avf users remove-role paul@exemple.fr --role admin --city lyon
    avf users list [--city lyon]

The database comes from the environment (AVF_DATA_DIR / AVF_DATABASE_URL), migrated first;
it is opened only once the arguments are known to be right (`open_database`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from avf.content.model import SLUG_PATTERN
from avf.service.accounts import (
    AccountError,
    check_role,
    find_or_create_person,
    grant_role,
    list_accounts,
    normalize_email,
    person_id_for,
    revoke_role,
)
from avf.service.people import ROLE_LABELS, ROLES
from avf.store.schema import NETWORK

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
ORDER = {role: rank for rank, role in enumerate(ROLES)}
Opener = Callable[[], Engine]
FRENCH_NAMES = {"responsable": "admin", "redacteur": "reporter", "rédacteur": "reporter",
                "redactrice": "reporter", "rédactrice": "reporter", "adherent": "member",
                "adhérent": "member", "adherente": "member", "adhérente": "member"}


def add(open_database: Opener, email: str, role: str, city: str | None, name: str = "",
        out: TextIO | None = None) -> int:
    try:
        address, role = normalize_email(email), _role(role)
        place = _place(role, city)
    except AccountError as error:
        return _usage(str(error))
    out = out or sys.stderr  # looked up now: a default bound at import misses redirections
    with open_database().begin() as connection:
        person_id, created = find_or_create_person(connection, address, name)
        granted = grant_role(connection, person_id, role, place)
    account = " (compte créé)" if created else ""
    if granted:
        print(f"{address}{account} : rôle « {_label(role, place)} » donné.", file=out)
    else:
        print(f"{address}{account} avait déjà le rôle « {_label(role, place)} ».", file=out)
    return EXIT_OK


def remove_role(open_database: Opener, email: str, role: str, city: str | None,
                out: TextIO | None = None) -> int:
    try:
        address, role = normalize_email(email), _role(role)
        place = _place(role, city)
    except AccountError as error:
        return _usage(str(error))
    out = out or sys.stderr
    with open_database().begin() as connection:
        person_id = person_id_for(connection, address)
        removed = person_id is not None and revoke_role(connection, person_id, role, place)
    if person_id is None:
        print(f"avf users : aucun compte n'a l'adresse {address}", file=sys.stderr)
        return EXIT_FAILED
    if not removed:
        print(f"avf users : {address} n'avait pas le rôle « {_label(role, place)} »",
              file=sys.stderr)
        return EXIT_FAILED
    print(f"{address} : rôle « {_label(role, place)} » retiré (effet immédiat).", file=out)
    return EXIT_OK


def list_people(open_database: Opener, city: str | None, out: TextIO | None = None) -> int:
    if city is not None and not SLUG_PATTERN.match(city):
        return _usage(f"« {city} » n'est pas le nom court d'une ville (comme saint-etienne)")
    out = out or sys.stdout
    with open_database().connect() as connection:
        accounts = list_accounts(connection, city)
    for account in accounts:
        person = account.person
        held = sorted(person.roles, key=lambda pair: (pair[0], ORDER.get(pair[1], len(ORDER))))
        roles = ", ".join(_label(role, place) for place, role in held
                          if city is None or place == city) or "aucun rôle"
        seen = (f"vu·e le {account.last_seen_at.astimezone(UTC):%d/%m/%Y}"
                if account.last_seen_at else "jamais connecté·e")
        name = f" ({person.display_name})" if person.display_name else ""
        print(f"{person.email}{name} — {roles} — {seen}", file=out)
    where = f" à « {city} »" if city is not None else ""
    print(f"{len(accounts)} compte(s){where}.", file=sys.stderr)
    return EXIT_OK


def database_from_environment(content_dir: Path, output_dir: Path) -> Engine:
    """The service's database as `avf serve` would open it, migrated."""
    from avf.service.settings import ServiceSettings
    from avf.store import connect, migrate

    settings = ServiceSettings.from_environ(content_dir, output_dir)
    engine = connect(settings.database_url)
    migrate(engine)
    return engine


def _role(typed: str) -> str:
    """The role's name in the store; its French name is understood too."""
    role = typed.strip().lower()
    return FRENCH_NAMES.get(role, role)


def _place(role: str, city: str | None) -> str:
    """The `city` column for this role, checked (the CLI's wording for what is missing)."""
    place = NETWORK if city is None else city.strip().lower()
    if role in ROLES and role != "webmaster" and not place:
        raise AccountError(f"le rôle {role} concerne une ville : ajoutez --city SLUG "
                           "(par exemple --city lyon)")
    check_role(role, place)
    return place


def _label(role: str, place: str) -> str:
    label = ROLE_LABELS.get(role, role)
    return label if place == NETWORK else f"{label} à {place}"


def _usage(message: str) -> int:
    print(f"avf users : {message}", file=sys.stderr)
    return EXIT_USAGE

