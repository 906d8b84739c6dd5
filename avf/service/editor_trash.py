"""The "Corbeille" page of the web editor: the city's deleted posts and pages (who deleted
them, when, their last text), and "Rétablir" for the city's admins — the text comes back
as a draft, in a new commit by the person (avf.editor.trash).
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from avf.content.loader import NETWORK_SLUG
from avf.editor.checkout import EditConflict
from avf.editor.trash import Deletion, deleted_texts, find_deletion, restore_deleted
from avf.editor.workflow import Invalid, Refused
from avf.service.csrf import protected_form
from avf.service.editor_access import author_of, checkout, editor_of
from avf.service.editor_history import history_url, journal, render_editor_page
from avf.service.people import Person
from avf.service.runtime import runtime


def may_undelete(person: Person, city: str) -> bool:
    """Deleting is the admins' (workflow.ACTIONS), so is bringing back."""
    return person.is_webmaster if city == NETWORK_SLUG else person.can("admin", city)


def trash_page(request: Request, error: str = "", status_code: int = 200) -> Response:
    city = request.path_params["city"]
    person = editor_of(request, city)
    settings = runtime(request).settings
    deletions = _newest_per_file(deleted_texts(checkout(request), settings.content_dir, city))
    restored = request.query_params.get("retabli", "")
    return render_editor_page(request, city, "service/editor/trash.html", {
        "deletions": [(deletion, history_url(deletion.file),
                       history_url(deletion.file, deletion.last_version))
                      for deletion in deletions],
        "may_undelete": may_undelete(person, city), "error": error,
        "restored": next((deletion for deletion in deletions
                          if deletion.file.rel == restored and deletion.exists_again), None),
        "city": city}, status_code)


def _newest_per_file(deletions: list[Deletion]) -> list[Deletion]:
    """A text deleted twice is listed once, at its last deletion (its history keeps all)."""
    seen: set[str] = set()
    newest = []
    for deletion in deletions:
        if deletion.file.rel not in seen:
            seen.add(deletion.file.rel)
            newest.append(deletion)
    return newest


async def undelete(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_undelete, request, form)


def _undelete(request: Request, form: FormData) -> Response:
    city = request.path_params["city"]
    person = editor_of(request, city)
    if not may_undelete(person, city):
        raise HTTPException(403, "Seul·e un·e responsable de la ville peut rétablir un "
                                 "texte supprimé.")
    repository = checkout(request)
    rel = str(form.get("path", ""))
    deletion = find_deletion(repository, runtime(request).settings.content_dir, city, rel)
    if deletion is None:
        raise HTTPException(404, "Ce texte n'est pas dans la corbeille.")
    try:
        saved = restore_deleted(repository, runtime(request).settings.content_dir, deletion,
                                author_of(request, person))
    except (Refused, Invalid, EditConflict) as problem:
        why = ("; ".join(item.message for item in problem.problems)
               if isinstance(problem, Invalid) else str(problem))
        return trash_page(request, f"« {deletion.title} » n'a pas été rétabli : {why}.", 409)
    if saved.commit:
        journal(request, person, deletion.file, "restore", saved.commit, [],
                comment="rétabli depuis la corbeille")
    return RedirectResponse(f"/editeur/{city}/corbeille?retabli={quote(rel)}", 303)


routes = [
    Route("/editeur/{city}/corbeille", trash_page, methods=["GET"]),
    Route("/editeur/{city}/corbeille/retablir", undelete, methods=["POST"]),
]
