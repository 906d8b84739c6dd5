"""What other parts call to guard a page: who is signed in, and may they do this?

Every check runs on the server, on every request, against roles read from the store for
that request (person_middleware). Refusals are exceptions, turned into pages by the one
error handler: a signed-out visitor of a page is sent to the sign-in form and comes back
after; a signed-in person without the role gets a French 403.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request

from avf.service.people import ROLE_LABELS, Person
from avf.store.schema import NETWORK

SIGN_IN_PATH = "/compte/connexion"


class SignInRequired(HTTPException):
    """A page needs a signed-in person: a 303 to the sign-in form, which comes back here."""

    def __init__(self, next_path: str):
        super().__init__(303, "Connexion nécessaire", headers={
            "Location": f"{SIGN_IN_PATH}?suivant={quote(next_path, safe='/')}"})


def current_person(request: Request) -> Person | None:
    """The signed-in person, or None."""
    return getattr(request.state, "person", None)


def require_person(request: Request) -> Person:
    """The signed-in person; otherwise a GET is redirected to the sign-in form and any
    other method (a form posted after the session ended) is refused with a 401."""
    person = current_person(request)
    if person is not None:
        return person
    if request.method in ("GET", "HEAD"):
        query = request.url.query
        raise SignInRequired(request.url.path + (f"?{query}" if query else ""))
    raise HTTPException(401, "Votre session a pris fin : connectez-vous à nouveau, puis "
                             "recommencez.")


def require_role(request: Request, role: str, city: str) -> Person:
    """The signed-in person, if they may act as `role` in `city`; a French 403 otherwise."""
    person = require_person(request)
    if not person.can(role, city):
        needed = ROLE_LABELS.get(role, role).lower()
        where = f" de « {city} »" if city != NETWORK else ""
        raise HTTPException(403, f"Cette page est réservée ({needed}{where}). Vous êtes "
                                 f"connecté·e en tant que {person.email}, qui n'y a pas "
                                 "accès : si c'est une erreur, demandez au responsable de "
                                 "votre AVF de vous ajouter.")
    return person


def require_webmaster(request: Request) -> Person:
    """The signed-in person, if they are the national webmaster; a French 403 otherwise."""
    person = require_person(request)
    if not person.is_webmaster:
        raise HTTPException(403, "Cette page est réservée au webmaster national du réseau.")
    return person
