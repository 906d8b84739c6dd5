"""The moderation queue of a city, `/membres/<city>/moderation/`, and its actions.

| route | who |
| --- | --- |
| `GET /membres/<city>/moderation/` | the city's admins; a group's moderators (their group) |
| `POST …/moderation/commentaire/<id>/<action>` | who may moderate its thread |
| `POST …/moderation/sujet/<id>/<action>` | who may moderate its group |
| `POST …/moderation/confiance/<person>/retirer` | the city's admins |
| `POST …/moderation/exclusions`, `…/exclusions/<person>/lever` | the city's admins |

Actions: `approuver`, `masquer`, `supprimer`.

The queue shows the held texts with why they were held, and the reported comments with
the reports' reasons. Approving a member's text makes them trusted in the city: their
next texts are shown at once (an admin may take that back). Approving also tells the
thread (discussion_mail), as a comment shown at once would have.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from avf.content.model import City
from avf.service.comment_store import load_comment, moderation_queue, set_status
from avf.service.csrf import protected_form
from avf.service.directory_pages import members_city, render_city_page
from avf.service.discussion import ban, banned_rows, revoke_trust, trust, trusted_ids, unban
from avf.service.discussion_flow import Where, tell_thread
from avf.service.form_text import one_line
from avf.service.groups import (
    city_groups,
    group_by_id,
    is_moderator,
    load_topic,
    moderated_groups,
    pending_topics,
    set_topic_status,
    topic_targets,
    touch_topic,
)
from avf.service.member_names import display_names
from avf.service.members import check_members_url
from avf.service.people import Person
from avf.service.runtime import runtime
from avf.service.threads import may_moderate, thread_ref
from avf.store.schema import roles

ACTIONS = {"approuver": "visible", "masquer": "hidden", "supprimer": "deleted"}
NOT_MODERATOR = ("Cette page est réservée aux responsables de votre AVF et aux modérateurs "
                 "de ses groupes.")
DONE = {
    "approuver": "C'est fait : le texte est visible, et son auteur·rice est désormais "
                 "de confiance.",
    "masquer": "C'est fait : le texte est masqué.",
    "supprimer": "C'est fait : le texte est supprimé.",
    "confiance": "C'est fait : les prochains messages de ce membre seront relus.",
    "exclu": "C'est fait : ce membre ne peut plus écrire dans l'espace adhérents.",
    "leve": "C'est fait : ce membre peut de nouveau écrire.",
}


def _moderator(request: Request) -> tuple[City, Person, list[int] | None]:
    """The city, the person, and the groups they moderate (None: all, an admin)."""
    check_members_url(request, request.path_params["city"])
    city, person = members_city(request)
    if person.can("admin", city.slug):
        return city, person, None
    with runtime(request).engine.connect() as connection:
        group_ids = moderated_groups(connection, city.slug, person.id)
    if not group_ids:
        raise HTTPException(403, NOT_MODERATOR)
    return city, person, group_ids


def queue_page(request: Request) -> Response:
    city, _, group_ids = _moderator(request)
    state = runtime(request)
    with state.engine.connect() as connection:
        if group_ids is None:
            all_groups = [group.id for group in city_groups(connection, city.slug)]
            held, reported = moderation_queue(connection, city.slug, None)
            topics = pending_topics(connection, all_groups)
        else:
            held, reported = moderation_queue(connection, city.slug,
                                              topic_targets(connection, group_ids))
            topics = pending_topics(connection, group_ids)
        threads = {item.comment.target: thread_ref(connection, state.settings.output_dir,
                                                   city, item.comment.target)
                   for item in [*held, *reported]}
        groups = {topic.group_id: group_by_id(connection, topic.group_id) for topic in topics}
        admin = group_ids is None
        trusted = trusted_ids(connection, city.slug) if admin else []
        bans = banned_rows(connection, city.slug) if admin else []
        names = display_names(connection, trusted + [person_id for person_id, _, _ in bans])
    return render_city_page(request, city, "service/moderation.html", {
        "held": held, "reported": reported, "topics": topics, "threads": threads,
        "groups": groups, "admin": admin, "names": names,
        "trusted": [(person_id, names[person_id]) for person_id in trusted],
        "bans": [(person_id, names[person_id], reason, since)
                 for person_id, reason, since in bans],
        "done": DONE.get(request.query_params.get("fait", "")),
        "base": f"/membres/{city.slug}/moderation"})


async def moderate_comment(request: Request) -> Response:
    await protected_form(request)
    return await run_in_threadpool(_moderate_comment, request)


def _moderate_comment(request: Request) -> Response:
    action = request.path_params["action"]
    if action not in ACTIONS:
        raise HTTPException(404, "Cette action n'existe pas.")
    check_members_url(request, request.path_params["city"])
    city, person = members_city(request)
    state = runtime(request)
    now = datetime.now(UTC)
    with state.engine.begin() as connection:
        comment = load_comment(connection, request.path_params["comment_id"])
        if comment is None or comment.city != city.slug or comment.status == "deleted":
            raise HTTPException(404, "Ce commentaire n'existe pas ou plus.")
        if not may_moderate(connection, person, city.slug, comment.target):
            raise HTTPException(403, NOT_MODERATOR)
        admin = person.can("admin", city.slug)
        _check_volunteer_moderator(admin, person, comment.author_id, comment.status)
        was = comment.status
        set_status(connection, comment.id, ACTIONS[action], person.id, now)
        if action == "approuver" and admin:
            trust(connection, city.slug, comment.author_id, now)
            ref = thread_ref(connection, state.settings.output_dir, city, comment.target)
            if was != "visible" and ref is not None:
                also = _topic_author(connection, comment.target)
                tell_thread(connection, state.settings,
                            Where(city, comment.target, ref, also), comment.author_id, now)
                if comment.target.startswith("topic:"):
                    touch_topic(connection, int(comment.target.partition(":")[2]), now)
    state.mail.wake()
    return _back(request, city, action)


def _topic_author(connection: Connection, target: str) -> tuple[int | None, ...]:
    kind, _, key = target.partition(":")
    if kind != "topic":
        return ()
    topic = load_topic(connection, int(key))
    return (topic.author_id,) if topic else ()


async def moderate_topic(request: Request) -> Response:
    await protected_form(request)
    return await run_in_threadpool(_moderate_topic, request)


def _moderate_topic(request: Request) -> Response:
    action = request.path_params["action"]
    if action not in ACTIONS:
        raise HTTPException(404, "Cette action n'existe pas.")
    check_members_url(request, request.path_params["city"])
    city, person = members_city(request)
    with runtime(request).engine.begin() as connection:
        topic = load_topic(connection, request.path_params["topic_id"])
        group = group_by_id(connection, topic.group_id) if topic else None
        if topic is None or group is None or group.city != city.slug:
            raise HTTPException(404, "Ce sujet n'existe pas ou plus.")
        admin = person.can("admin", city.slug)
        if not (admin or is_moderator(connection, group.id, person.id)):
            raise HTTPException(403, NOT_MODERATOR)
        _check_volunteer_moderator(admin, person, topic.author_id, topic.status)
        set_topic_status(connection, topic.id, ACTIONS[action])
        if action == "approuver" and admin:
            trust(connection, city.slug, topic.author_id)
    return _back(request, city, action)


def _check_volunteer_moderator(admin: bool, person: Person, author_id: int | None,
                               status: str) -> None:
    """A group's volunteer moderator moderates others' texts that are waiting or shown:
    never their own (no self-approval), never one an admin hid or deleted. Only an admin's
    approval makes its author trusted in the whole city."""
    if admin:
        return
    if author_id == person.id:
        raise HTTPException(403, "Un texte que vous avez écrit est modéré par un·e autre "
                                 "modérateur·rice ou par les responsables de votre AVF.")
    if status not in ("pending", "visible"):
        raise HTTPException(403, "Ce texte a été masqué par les responsables de votre AVF : "
                                 "eux seuls peuvent le rétablir.")


def _back(request: Request, city: City, done: str) -> Response:
    """Back to the queue, which says what was done."""
    return RedirectResponse(f"/membres/{city.slug}/moderation/?fait={done}", status_code=303)


def _admin(request: Request) -> tuple[City, Person]:
    check_members_url(request, request.path_params["city"])
    city, person = members_city(request)
    if not person.can("admin", city.slug):
        raise HTTPException(403, "Cette action est réservée aux responsables de votre AVF.")
    return city, person


async def revoke(request: Request) -> Response:
    await protected_form(request)
    return await run_in_threadpool(_revoke, request)


def _revoke(request: Request) -> Response:
    city, _ = _admin(request)
    with runtime(request).engine.begin() as connection:
        revoke_trust(connection, city.slug, request.path_params["person_id"])
    return _back(request, city, "confiance")


async def add_ban(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_add_ban, request, form)


def _add_ban(request: Request, form: FormData) -> Response:
    city, person = _admin(request)
    typed = form.get("personne")
    if not isinstance(typed, str) or not typed.isdigit():
        raise HTTPException(400, "Choisissez le membre à exclure depuis la file de modération.")
    target = int(typed)
    with runtime(request).engine.begin() as connection:
        held = connection.execute(select(roles.c.city, roles.c.role).where(
            roles.c.person_id == target)).all()
        if not person.is_webmaster and any(
                role == "webmaster" or (role == "admin" and where == city.slug)
                for where, role in held):
            raise HTTPException(403, "Un·e responsable de la ville ou le webmaster ne peut être "
                                     "exclu·e que par le webmaster national.")
        ban(connection, city.slug, target, person.id, one_line(form.get("raison"))[:300])
        revoke_trust(connection, city.slug, target)
    return _back(request, city, "exclu")


async def lift_ban(request: Request) -> Response:
    await protected_form(request)
    return await run_in_threadpool(_lift_ban, request)


def _lift_ban(request: Request) -> Response:
    city, _ = _admin(request)
    with runtime(request).engine.begin() as connection:
        unban(connection, city.slug, request.path_params["person_id"])
    return _back(request, city, "leve")


async def to_queue(request: Request) -> Response:
    check_members_url(request, request.path_params["city"])
    return RedirectResponse(f"/membres/{request.path_params['city']}/moderation/",
                            status_code=308)


routes = [
    Route("/membres/{city}/moderation", to_queue),
    Route("/membres/{city}/moderation/", queue_page, methods=["GET"]),
    Route("/membres/{city}/moderation/commentaire/{comment_id:int}/{action}",
          moderate_comment, methods=["POST"]),
    Route("/membres/{city}/moderation/sujet/{topic_id:int}/{action}", moderate_topic,
          methods=["POST"]),
    Route("/membres/{city}/moderation/confiance/{person_id:int}/retirer", revoke,
          methods=["POST"]),
    Route("/membres/{city}/moderation/exclusions", add_ban, methods=["POST"]),
    Route("/membres/{city}/moderation/exclusions/{person_id:int}/lever", lift_ban,
          methods=["POST"]),
]
