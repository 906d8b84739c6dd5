"""`avf hook post-receive`: the webhook for a self-hosted bare repository with no forge.

git runs the repository's `post-receive` hook (deploy/post-receive) after every push, with
one `<old> <new> <ref>` line per updated ref on stdin. A push to the published branch
becomes a sync job in the service's database, exactly as a webhook's would; the running
service's queue worker, which looks at the table every few seconds, fetches the content
checkout from this repository and builds. The hook itself touches neither the checkout nor
the output: only one process (the service's worker) ever moves the checkout, so the hook
can never pull the content from under a build, and git's push returns at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from avf.service.forges import Push, ignored_because
from avf.service.queue import BuildQueue
from avf.service.repo import tracked_branch
from avf.service.settings import ServiceSettings
from avf.store import connect, migrate


class HookInputError(ValueError):
    """A line on stdin is not what git gives a post-receive hook."""


def queue_pushes(lines: Iterable[str], settings: ServiceSettings,
                 pusher: str | None = None) -> list[str]:
    """Queue a sync for each line that moved the published branch; return, in French,
    what was done with each line (git shows it to the person who pushed)."""
    pushes = [_push(line, pusher) for line in lines if line.strip()]
    if not pushes:
        return []
    branch = tracked_branch(settings.content_dir, settings.git_branch)
    engine = connect(settings.database_url)
    try:
        migrate(engine)
        queue = BuildQueue(engine, settings)
        said = []
        for push in pushes:
            reason = ignored_because(push, branch)
            if reason:
                said.append(f"AVF : {reason}.")
                continue
            job = queue.request_sync(push.after, f"push sur {branch} "
                                     f"({push.before[:7]}…{push.after[:7]})",
                                     requested_by=pusher)
            said.append(f"AVF : mise en ligne programmée (synchronisation n° {job}) ; "
                        "les sites seront à jour dans quelques secondes.")
        return said
    finally:
        engine.dispose()


def _push(line: str, pusher: str | None) -> Push:
    try:
        before, after, ref = line.split()
    except ValueError:
        raise HookInputError(f"ligne inattendue sur l'entrée : {line.strip()!r} "
                         "(attendu : <ancien> <nouveau> <référence>)") from None
    return Push(forge="git", delivery_id=f"git:{ref}:{after}", ref=ref, before=before,
                after=after, deleted=after.strip("0") == "", pusher=pusher)
