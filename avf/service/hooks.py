"""`POST /hooks/git`: a forge tells the service that the content was pushed.

The request is checked (size, signature over the raw bytes), its delivery recorded once
(a redelivery is answered but ignored), and a push to the published branch becomes a
*sync* job of the build queue. The fetch, the diff and the builds happen in the queue's
worker, not here: a forge waits only a few seconds for an answer (GitHub 10 s, Gitea 5 s
by default), a fetch from it may take longer, and one worker moving the checkout means no
build ever reads it half-moved. The answer comes back in milliseconds.

Machine to machine: authenticated by the forge's signature, not by a CSRF token; answers
are JSON (errors too, see errors.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from avf.service import forges
from avf.service.forges import PayloadError, Push
from avf.service.repo import RepoError, tracked_branch
from avf.service.runtime import Runtime, runtime
from avf.store.schema import build_jobs, webhook_deliveries

# GitHub's own cap on a payload: a larger limit is useless, a smaller one could lose a
# push of many commits. The body is read whole before its signature can be checked.
MAX_BODY_BYTES = 25 * 1024 * 1024
FORGE_NAMES = {"github": "GitHub", "gitea": "Gitea", "forgejo": "Forgejo", "gitlab": "GitLab"}


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: dict[str, object]


async def receive(request: Request) -> JSONResponse:
    state = runtime(request)
    secret = state.settings.webhook_secret
    if not secret:
        raise HTTPException(503, "Webhooks désactivés : AVF_WEBHOOK_SECRET n'est pas défini "
                                 "sur le serveur, et aucune requête non signée n'est acceptée.")
    body = await _read_body(request)
    forge = forges.identify(request.headers)
    if forge is None or not forges.is_signed(forge, request.headers, body, secret):
        raise HTTPException(401, "Signature absente ou invalide : vérifiez que le secret du "
                                 "webhook est celui d'AVF_WEBHOOK_SECRET.")
    try:
        payload = forges.read_json(body)
        event = forges.event_of(forge, request.headers)
        delivery = forges.delivery_id(forge, request.headers, body)
        push = forges.parse_push(forge, delivery, payload) \
            if event in forges.PUSH_EVENTS else None
    except PayloadError as error:
        raise HTTPException(400, f"Requête incorrecte : {error}.") from None
    answer = await run_in_threadpool(_handle, state, forge, event, delivery, push)
    return JSONResponse(answer.body, status_code=answer.status_code)


def _handle(state: Runtime, forge: str, event: str, delivery: str,
            push: Push | None) -> Answer:
    """Record the delivery once, and queue a sync for a push to the published branch."""
    to_sync = None
    if event in forges.PING_EVENTS:
        outcome, answer = "ping", Answer(200, {"status": "pong", "detail": "Webhook reçu."})
    elif push is None:
        outcome = f"événement « {event} » ignoré : seuls les push sont publiés"
        answer = Answer(200, {"status": "ignored", "detail": outcome})
    else:
        try:
            branch = tracked_branch(state.settings.content_dir, state.settings.git_branch)
        except RepoError as error:
            raise HTTPException(503, f"Contenu indisponible : {error}.") from None
        reason = forges.ignored_because(push, branch)
        outcome = reason or "synchronisation programmée"
        answer = Answer(200, {"status": "ignored", "detail": outcome})
        to_sync = None if reason else push
    try:
        with state.engine.begin() as connection:
            if not _first_delivery(connection, delivery, retry=to_sync is not None):
                return Answer(200, {"status": "duplicate",
                                    "detail": "Livraison déjà reçue : ignorée."})
            job = None
            if to_sync is not None:
                job = state.builds.request_sync(to_sync.after, _reason(to_sync),
                                                requested_by=to_sync.pusher,
                                                connection=connection)
                outcome = f"synchronisation n° {job} programmée"
                answer = Answer(202, {"status": "queued", "job": job,
                                      "detail": f"Push reçu : {outcome}."})
            connection.execute(insert(webhook_deliveries).values(
                delivery_id=delivery, forge=forge, event=event[:50],
                received_at=datetime.now(UTC), outcome=outcome, job_id=job))
    except IntegrityError:  # the same delivery, received at the same moment
        return Answer(200, {"status": "duplicate", "detail": "Livraison déjà reçue : ignorée."})
    if to_sync is not None:
        state.builds.wake()  # after the commit, so the worker sees the job
    return answer


def _first_delivery(connection: Connection, delivery: str, retry: bool) -> bool:
    """Whether this delivery is new. One whose sync failed counts as new when it is sent
    again (`retry`): the forge's "Redeliver" button is how a webmaster retries once the
    cause (local changes, a forge down) is fixed; its old record makes room."""
    seen = connection.execute(
        select(webhook_deliveries.c.job_id, build_jobs.c.status)
        .select_from(webhook_deliveries.outerjoin(
            build_jobs, build_jobs.c.id == webhook_deliveries.c.job_id))
        .where(webhook_deliveries.c.delivery_id == delivery)).first()
    if seen is None:
        return True
    if retry and seen.status == "failed":
        connection.execute(delete(webhook_deliveries)
                           .where(webhook_deliveries.c.delivery_id == delivery))
        return True
    return False


def _reason(push: Push) -> str:
    return (f"push {FORGE_NAMES.get(push.forge, push.forge)} sur {push.branch} "
            f"({push.before[:7]}…{push.after[:7]})")


async def _read_body(request: Request) -> bytes:
    """The raw body, refused with 413 past MAX_BODY_BYTES (announced or actual)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(413, "Requête trop volumineuse.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HTTPException(413, "Requête trop volumineuse.")
        chunks.append(chunk)
    return b"".join(chunks)


routes = [Route("/hooks/git", receive, methods=["POST"])]
