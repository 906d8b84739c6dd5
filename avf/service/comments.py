"""Comments on a city's posts, in its members' area.

| route | who |
| --- | --- |
| `GET /membres/<city>/commentaires/<slug>` | the city's members (`?fragment=1`: no layout) |
| `POST /membres/<city>/commentaires/<slug>` | the city's members: a comment or a reply |
| `GET/POST /membres/<city>/commentaire/<id>/modifier` | its author, for 15 minutes |
| `POST /membres/<city>/commentaire/<id>/supprimer` | its author, for 15 minutes |
| `POST /membres/<city>/commentaire/<id>/signaler` | any member who can read it |

A post takes comments when the last build published it: always a member-only post, a
public one when the city allows it (threads.find_post). Comments are read in the members'
area only, even those of a public post: they carry members' names. The same actions serve
the replies of group topics (their thread is then the topic's page).
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from avf.content.model import City
from avf.service.comment_store import (
    Comment,
    delete_comment,
    edit_comment,
    hold_again,
    load_comment,
    post_target,
    report_comment,
    thread,
)
from avf.service.csrf import protected_form
from avf.service.directory_pages import members_city, render_city_page
from avf.service.discussion import (
    BANNED,
    BODY_MAX,
    EDIT_WINDOW,
    count_links,
    decide,
    editable,
    is_banned,
    render_text,
    text_error,
)
from avf.service.discussion_flow import Where, write_comment
from avf.service.form_text import one_line, text_block
from avf.service.members import check_members_url
from avf.service.people import Person
from avf.service.runtime import runtime
from avf.service.threads import PostRef, ThreadRef, find_post, may_moderate, thread_ref

NO_POST = ("Cette publication n'existe pas, n'est pas encore en ligne, ou ne reçoit pas de "
           "commentaires.")
NO_COMMENT = "Ce commentaire n'existe pas ou plus."
TOO_LATE = ("Un commentaire ne peut plus être modifié ni supprimé 15 minutes après son "
            "envoi. Si besoin, signalez-le aux responsables.")
DONE = {
    "publie": "Merci : votre commentaire est publié.",
    "attente": "Merci : votre commentaire est bien reçu. Il sera visible dès qu'un "
               "responsable l'aura relu (c'est le cas pour le premier message de chaque "
               "membre).",
    "modifie": "C'est fait : votre commentaire est modifié.",
    "supprime": "C'est fait : votre commentaire est supprimé.",
    "signale": "Merci : les responsables vont examiner ce commentaire.",
}


def _post_of(request: Request) -> tuple[City, Person, PostRef]:
    slug = request.path_params["city"]
    check_members_url(request, slug)
    city, person = members_city(request)
    post = find_post(runtime(request).settings.output_dir, city, request.path_params["slug"])
    if post is None:
        raise HTTPException(404, NO_POST)
    return city, person, post


def _where(city: City, post: PostRef) -> Where:
    return Where(city, post_target(post.slug),
                 ThreadRef(post.title, f"/membres/{city.slug}/commentaires/{post.slug}"))


def thread_page(request: Request) -> Response:
    city, person, post = _post_of(request)
    fragment = request.query_params.get("fragment") == "1"
    return _render(request, city, person, post, fragment=fragment)


async def add(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_add, request, form)


def _add(request: Request, form: FormData) -> Response:
    city, person, post = _post_of(request)

    def form_again(error: str, body: str, status: int) -> Response:
        return _render(request, city, person, post, error=error, message=body,
                       status_code=status)

    return write_comment(request, _where(city, post), person, form, form_again)


def _render(request: Request, city: City, person: Person, post: PostRef,
            fragment: bool = False, error: str | None = None, message: str = "",
            status_code: int = 200) -> Response:
    where = _where(city, post)
    context = thread_context(request, city, person, where.target, where.thread.url)
    context.update(post=post, error=error, message=message, fragment=fragment)
    template = "service/comments_fragment.html" if fragment else "service/comments.html"
    return render_city_page(request, city, template, context, status_code=status_code)


def thread_context(request: Request, city: City, person: Person, target: str,
                   action: str) -> dict[str, object]:
    """What `_discussion.html` needs to draw a thread and its forms."""
    with runtime(request).engine.connect() as connection:
        comments = thread(connection, city.slug, target, person.id)
        moderator = may_moderate(connection, person, city.slug, target)
    done = request.query_params.get("fait", "")
    return {"comments": comments, "action": action, "now": datetime.now(UTC),
            "edit_window": EDIT_WINDOW, "can_moderate": moderator, "body_max": BODY_MAX,
            "done": DONE.get(done), "city_slug": city.slug, "error": None, "message": "",
            "can_write": True}


# --- One comment: edit, delete, report ------------------------------------------------------

def _comment_of(request: Request) -> tuple[City, Person, Comment, ThreadRef]:
    check_members_url(request, request.path_params["city"])
    city, person = members_city(request)
    with runtime(request).engine.connect() as connection:
        comment = load_comment(connection, request.path_params["comment_id"])
        shown = comment is not None and comment.city == city.slug and (
            comment.status == "visible"
            or (comment.status == "pending" and comment.author_id == person.id))
        ref = thread_ref(connection, runtime(request).settings.output_dir, city,
                         comment.target) if comment is not None and shown else None
    if comment is None or ref is None:
        raise HTTPException(404, NO_COMMENT)
    return city, person, comment, ref


def _own_and_recent(person: Person, comment: Comment) -> None:
    if comment.author_id != person.id:
        raise HTTPException(403, "Seul·e l'auteur·rice d'un commentaire peut le modifier ou "
                                 "le supprimer.")
    if not editable(comment.created_at, datetime.now(UTC)):
        raise HTTPException(403, TOO_LATE)


def edit_page(request: Request) -> Response:
    city, person, comment, ref = _comment_of(request)
    _own_and_recent(person, comment)
    return _edit_form(request, city, comment, ref, comment.body)


def _edit_form(request: Request, city: City, comment: Comment, ref: ThreadRef, message: str,
               error: str | None = None, status_code: int = 200) -> Response:
    return render_city_page(request, city, "service/comment_edit.html", {
        "comment": comment, "thread": ref, "message": message, "error": error,
        "body_max": BODY_MAX}, status_code=status_code)


async def edit(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_edit, request, form)


def _not_banned(request: Request, city: City, person: Person) -> None:
    """A member the city banned neither edits, deletes nor reports (nor writes)."""
    with runtime(request).engine.connect() as connection:
        if is_banned(connection, city.slug, person.id):
            raise HTTPException(403, BANNED)


def _edit(request: Request, form: FormData) -> Response:
    city, person, comment, ref = _comment_of(request)
    _own_and_recent(person, comment)
    _not_banned(request, city, person)
    body = text_block(form.get("message"))
    error = text_error(body)
    if error is not None:
        return _edit_form(request, city, comment, ref, body, error, 400)
    with runtime(request).engine.begin() as connection:
        edit_comment(connection, comment.id, body, render_text(body))
        if comment.status == "visible" and count_links(body) > count_links(comment.body):
            # More links than before: an untrusted author's text is read again.
            decision = decide(connection, city.slug, person.id, [body])
            if decision.status == "pending":
                hold_again(connection, comment.id, decision.held_reason)
    return RedirectResponse(f"{ref.url}?fait=modifie#commentaires", status_code=303)


async def delete(request: Request) -> Response:
    await protected_form(request)
    return await run_in_threadpool(_delete, request)


def _delete(request: Request) -> Response:
    city, person, comment, ref = _comment_of(request)
    _own_and_recent(person, comment)
    _not_banned(request, city, person)
    with runtime(request).engine.begin() as connection:
        delete_comment(connection, comment.id)
    return RedirectResponse(f"{ref.url}?fait=supprime#commentaires", status_code=303)


async def report(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_report, request, form)


def _report(request: Request, form: FormData) -> Response:
    city, person, comment, ref = _comment_of(request)
    _not_banned(request, city, person)
    reason = one_line(form.get("raison"))[:500]
    with runtime(request).engine.begin() as connection:
        report_comment(connection, comment.id, person.id, reason)
    return RedirectResponse(f"{ref.url}?fait=signale#commentaires", status_code=303)


routes = [
    Route("/membres/{city}/commentaires/{slug}", thread_page, methods=["GET"]),
    Route("/membres/{city}/commentaires/{slug}", add, methods=["POST"]),
    Route("/membres/{city}/commentaire/{comment_id:int}/modifier", edit_page, methods=["GET"]),
    Route("/membres/{city}/commentaire/{comment_id:int}/modifier", edit, methods=["POST"]),
    Route("/membres/{city}/commentaire/{comment_id:int}/supprimer", delete, methods=["POST"]),
    Route("/membres/{city}/commentaire/{comment_id:int}/signaler", report, methods=["POST"]),
]
