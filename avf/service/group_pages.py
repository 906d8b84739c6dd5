"""A city's groups (« communautés »), in its members' area.

| route | who |
| --- | --- |
| `GET /membres/<city>/groupes/` | the city's members (admins: the creation form) |
| `POST /membres/<city>/groupes/` | the city's admins: a new group |
| `GET /membres/<city>/groupes/<slug>/` | the city's members: the group, its topics |
| `POST …/<slug>/rejoindre`, `…/<slug>/quitter` | the city's members |
| `POST …/<slug>/modifier`, `…/<slug>/moderateurs` | the city's admins |
| `POST …/<slug>/sujets` | the group's members: a new topic |
| `GET/POST …/<slug>/sujets/<id>` | members read; the group's members reply |
| `GET …/<slug>/fil.atom` | the city's members: the group's feed |

Any member of the city reads a group; only its members write in it. Topics and replies
follow the comments' rules (discussion_flow): held first, banned refused, limits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from xml.sax.saxutils import escape

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from avf.content.model import City
from avf.content.values import slugify
from avf.service.comment_store import topic_target
from avf.service.comments import thread_context
from avf.service.csrf import protected_form
from avf.service.directory_pages import PRIVATE, members_city, render_city_page
from avf.service.discussion import TITLE_MAX, decide, render_text
from avf.service.discussion_flow import Where, spam_or_refusal, write_comment
from avf.service.form_text import one_line, text_block
from avf.service.groups import (
    DESCRIPTION_MAX,
    NAME_MAX,
    Group,
    Topic,
    add_topic,
    city_groups,
    create_group,
    group_people,
    group_topic_list,
    is_member,
    is_moderator,
    join,
    leave,
    load_group,
    load_topic,
    moderators,
    set_moderator,
    touch_topic,
    update_group,
)
from avf.service.members import check_members_url
from avf.service.people import Person
from avf.service.runtime import runtime
from avf.service.threads import ThreadRef

NO_GROUP = "Ce groupe n'existe pas ou plus."
NO_TOPIC = "Ce sujet n'existe pas ou plus."
JOIN_FIRST = "Rejoignez le groupe pour y écrire."
ADMINS_ONLY = "Seuls les responsables de votre AVF créent et modifient les groupes."
DONE = {
    "cree": "C'est fait : le groupe est créé.",
    "modifie": "C'est fait : le groupe est modifié.",
    "rejoint": "Bienvenue dans le groupe !",
    "quitte": "Vous avez quitté le groupe.",
    "moderateurs": "C'est fait : les modérateurs sont à jour.",
    "publie": "Merci : votre sujet est publié.",
    "attente": "Merci : votre sujet est bien reçu. Il sera visible dès qu'un modérateur "
               "l'aura relu (c'est le cas pour le premier message de chaque membre).",
}
FEED_TOPICS = 30


def _city(request: Request) -> tuple[City, Person]:
    check_members_url(request, request.path_params["city"])
    return members_city(request)


def _group(request: Request) -> tuple[City, Person, Group]:
    city, person = _city(request)
    with runtime(request).engine.connect() as connection:
        group = load_group(connection, city.slug, request.path_params["group"])
    if group is None:
        raise HTTPException(404, NO_GROUP)
    return city, person, group


def _admin(person: Person, city: City) -> None:
    if not person.can("admin", city.slug):
        raise HTTPException(403, ADMINS_ONLY)


def groups_page(request: Request) -> Response:
    city, person = _city(request)
    return _groups_page(request, city, person)


def _groups_page(request: Request, city: City, person: Person, error: str | None = None,
                 values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    with runtime(request).engine.connect() as connection:
        groups = city_groups(connection, city.slug)
        mine = {group.id for group in groups if is_member(connection, group.id, person.id)}
    return render_city_page(request, city, "service/groups.html", {
        "groups": groups, "mine": mine, "manages": person.can("admin", city.slug),
        "error": error, "values": values or {}, "name_max": NAME_MAX,
        "done": DONE.get(request.query_params.get("fait", ""))}, status_code=status_code)


async def create(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_create, request, form)


def _create(request: Request, form: FormData) -> Response:
    city, person = _city(request)
    _admin(person, city)
    name = one_line(form.get("nom"))
    description = text_block(form.get("description"))
    values = {"nom": name, "description": description}
    if not name or len(name) > NAME_MAX or len(description) > DESCRIPTION_MAX:
        return _groups_page(request, city, person, f"Donnez au groupe un nom ({NAME_MAX} "
                            f"caractères au plus) et une description de {DESCRIPTION_MAX} "
                            "caractères au plus.", values, 400)
    slug = slugify(name)[:80].strip("-")
    with runtime(request).engine.begin() as connection:
        if not slug or load_group(connection, city.slug, slug) is not None:
            return _groups_page(request, city, person, "Un groupe porte déjà ce nom (ou un "
                                "nom très proche) : choisissez-en un autre.", values, 400)
        create_group(connection, city.slug, slug, name, description, person.id)
    return RedirectResponse(f"/membres/{city.slug}/groupes/{slug}/?fait=cree", status_code=303)


def group_page(request: Request) -> Response:
    city, person, group = _group(request)
    return _group_page(request, city, person, group)


def _group_page(request: Request, city: City, person: Person, group: Group,
                error: str | None = None, values: dict[str, str] | None = None,
                status_code: int = 200) -> Response:
    manages = person.can("admin", city.slug)
    with runtime(request).engine.connect() as connection:
        member = is_member(connection, group.id, person.id)
        moderator = manages or is_moderator(connection, group.id, person.id)
        topics = group_topic_list(connection, group.id, person.id)
        people = group_people(connection, group.id) if manages else []
        moderator_names = moderators(connection, group.id)
    return render_city_page(request, city, "service/group.html", {
        "group": group, "member": member, "moderator": moderator, "manages": manages,
        "topics": topics, "moderators": moderator_names, "people": people,
        "error": error, "values": values or {}, "title_max": TITLE_MAX,
        "base": f"/membres/{city.slug}/groupes/{group.slug}",
        "done": DONE.get(request.query_params.get("fait", ""))}, status_code=status_code)


async def join_group(request: Request) -> Response:
    await protected_form(request)
    return await run_in_threadpool(_membership, request, True)


async def leave_group(request: Request) -> Response:
    await protected_form(request)
    return await run_in_threadpool(_membership, request, False)


def _membership(request: Request, joining: bool) -> Response:
    city, person, group = _group(request)
    with runtime(request).engine.begin() as connection:
        (join if joining else leave)(connection, group.id, person.id)
    done = "rejoint" if joining else "quitte"
    return RedirectResponse(f"/membres/{city.slug}/groupes/{group.slug}/?fait={done}",
                            status_code=303)


async def edit_group(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_edit_group, request, form)


def _edit_group(request: Request, form: FormData) -> Response:
    city, person, group = _group(request)
    _admin(person, city)
    name = one_line(form.get("nom"))
    description = text_block(form.get("description"))
    if not name or len(name) > NAME_MAX or len(description) > DESCRIPTION_MAX:
        return _group_page(request, city, person, group, "Le nom est obligatoire ("
                           f"{NAME_MAX} caractères au plus) ; la description, "
                           f"{DESCRIPTION_MAX} au plus.", status_code=400)
    with runtime(request).engine.begin() as connection:
        update_group(connection, group.id, name, description)
    return RedirectResponse(f"/membres/{city.slug}/groupes/{group.slug}/?fait=modifie",
                            status_code=303)


async def name_moderator(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_name_moderator, request, form)


def _name_moderator(request: Request, form: FormData) -> Response:
    city, person, group = _group(request)
    _admin(person, city)
    typed = form.get("personne")
    if not isinstance(typed, str) or not typed.isdigit():
        raise HTTPException(400, "Choisissez un membre du groupe dans la liste.")
    with runtime(request).engine.begin() as connection:
        if not is_member(connection, group.id, int(typed)):
            raise HTTPException(400, "Choisissez un membre du groupe dans la liste.")
        set_moderator(connection, group.id, int(typed), form.get("role") == "moderateur")
    return RedirectResponse(f"/membres/{city.slug}/groupes/{group.slug}/?fait=moderateurs",
                            status_code=303)


async def new_topic(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_new_topic, request, form)


def _new_topic(request: Request, form: FormData) -> Response:
    city, person, group = _group(request)
    base = f"/membres/{city.slug}/groupes/{group.slug}/"
    _writer(request, person, group)
    title = one_line(form.get("titre"))
    body = text_block(form.get("message"))
    values = {"titre": title, "message": body}

    def form_again(error: str, _: str, status: int) -> Response:
        return _group_page(request, city, person, group, error, values, status)

    if not title or len(title) > TITLE_MAX:
        return form_again(f"Donnez un titre à votre sujet ({TITLE_MAX} caractères au plus).",
                          "", 400)
    refused = spam_or_refusal(request, city, person, form, [body], form_again, base)
    if refused is not None:
        return refused
    with runtime(request).engine.begin() as connection:
        decision = decide(connection, city.slug, person.id, [title, body],
                          staff=person.can("admin", city.slug))
        add_topic(connection, group.id, person.id, title, body, render_text(body),
                  decision.status, decision.held_reason)
    done = "publie" if decision.status == "visible" else "attente"
    return RedirectResponse(f"{base}?fait={done}", status_code=303)


def _writer(request: Request, person: Person, group: Group) -> None:
    """Only the group's members write in it."""
    with runtime(request).engine.connect() as connection:
        member = is_member(connection, group.id, person.id)
    if not member:
        raise HTTPException(403, JOIN_FIRST)


def _topic(request: Request) -> tuple[City, Person, Group, Topic]:
    city, person, group = _group(request)
    with runtime(request).engine.connect() as connection:
        topic = load_topic(connection, request.path_params["topic_id"])
        moderator = person.can("admin", city.slug) or is_moderator(connection, group.id,
                                                                    person.id)
    if topic is None or topic.group_id != group.id or not (
            topic.status == "visible" or (topic.status == "pending" and (
                topic.author_id == person.id or moderator))):
        raise HTTPException(404, NO_TOPIC)
    return city, person, group, topic


def _where(city: City, group: Group, topic: Topic) -> Where:
    return Where(city, topic_target(topic.id), ThreadRef(
        topic.title, f"/membres/{city.slug}/groupes/{group.slug}/sujets/{topic.id}"),
        also_tell=(topic.author_id,))


def topic_page(request: Request) -> Response:
    city, person, group, topic = _topic(request)
    return _topic_page(request, city, person, group, topic)


def _topic_page(request: Request, city: City, person: Person, group: Group, topic: Topic,
                error: str | None = None, message: str = "",
                status_code: int = 200) -> Response:
    where = _where(city, group, topic)
    context = thread_context(request, city, person, where.target, where.thread.url)
    with runtime(request).engine.connect() as connection:
        member = is_member(connection, group.id, person.id)
    context.update(group=group, topic=topic, error=error, message=message,
                   can_write=member and topic.status == "visible",
                   why_not=None if member else JOIN_FIRST, thread_heading="Réponses",
                   write_label="Votre réponse")
    return render_city_page(request, city, "service/group_topic.html", context,
                            status_code=status_code)


async def reply(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_reply, request, form)


def _reply(request: Request, form: FormData) -> Response:
    city, person, group, topic = _topic(request)
    _writer(request, person, group)
    if topic.status != "visible":
        raise HTTPException(404, NO_TOPIC)

    def form_again(error: str, body: str, status: int) -> Response:
        return _topic_page(request, city, person, group, topic, error, body, status)

    def on_visible(connection: Connection, now: datetime) -> None:
        touch_topic(connection, topic.id, now)

    return write_comment(request, _where(city, group, topic), person, form, form_again,
                         on_visible=on_visible)


def feed(request: Request) -> Response:
    """The group's visible topics as an Atom feed, for the city's members only."""
    city, _, group = _group(request)
    public_url = runtime(request).settings.public_url
    base = f"{public_url}/membres/{city.slug}/groupes/{group.slug}/"
    with runtime(request).engine.connect() as connection:
        topics = group_topic_list(connection, group.id, None)[:FEED_TOPICS]
    updated = max((topic.last_activity_at for topic in topics), default=datetime.now(UTC))
    entries = "".join(
        f"<entry><title>{escape(topic.title)}</title>"
        f'<link href="{escape(base)}sujets/{topic.id}"/>'
        f"<id>{escape(base)}sujets/{topic.id}</id>"
        f"<updated>{topic.last_activity_at.isoformat()}</updated>"
        f"<author><name>{escape(topic.author_name)}</name></author>"
        f'<content type="html">{escape(topic.html)}</content></entry>'
        for topic in topics)
    body = ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(group.name)} — {escape(city.name)}</title>"
            f'<link href="{escape(base)}"/><id>{escape(base)}</id>'
            f"<updated>{updated.isoformat()}</updated>{entries}</feed>")
    return Response(body, media_type="application/atom+xml; charset=utf-8", headers=PRIVATE)


async def to_folder(request: Request) -> Response:
    check_members_url(request, request.path_params["city"])
    return RedirectResponse(f"{request.url.path}/", status_code=308)


routes = [
    Route("/membres/{city}/groupes", to_folder),
    Route("/membres/{city}/groupes/", groups_page, methods=["GET"]),
    Route("/membres/{city}/groupes/", create, methods=["POST"]),
    Route("/membres/{city}/groupes/{group}", to_folder),
    Route("/membres/{city}/groupes/{group}/", group_page, methods=["GET"]),
    Route("/membres/{city}/groupes/{group}/rejoindre", join_group, methods=["POST"]),
    Route("/membres/{city}/groupes/{group}/quitter", leave_group, methods=["POST"]),
    Route("/membres/{city}/groupes/{group}/modifier", edit_group, methods=["POST"]),
    Route("/membres/{city}/groupes/{group}/moderateurs", name_moderator, methods=["POST"]),
    Route("/membres/{city}/groupes/{group}/sujets", new_topic, methods=["POST"]),
    Route("/membres/{city}/groupes/{group}/sujets/{topic_id:int}", topic_page,
          methods=["GET"]),
    Route("/membres/{city}/groupes/{group}/sujets/{topic_id:int}", reply, methods=["POST"]),
    Route("/membres/{city}/groupes/{group}/fil.atom", feed, methods=["GET"]),
]
