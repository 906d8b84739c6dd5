"""The content checkout as the web editor writes it: every save one git commit, authored by
the volunteer, pushed to `origin` when there is one — and never a lost edit.

- **One writer at a time.** Saves, restores and the webhook's synchronisation
  (`avf.service.repo.sync`) take the same lock (a `flock` on a file of the git folder,
  plus a thread lock), so a commit is never made on a checkout that is moving.
- **Nothing overwritten.** A save names, for each file, the version it started from (the
  git blob id shown when the form was opened; "" for a new file). If the file has changed
  since, the save stops with `EditConflict`, carrying the other version, who wrote it and
  when: the person merges and saves again.
- **Pushes are never forced.** A push refused because someone pushed first is followed by
  a fetch and a rebase of our commits, then pushed again. When the rebase conflicts (the
  same lines changed on both sides), our commits are kept on a branch
  `avf/sauvegarde-<date>`, the checkout follows `origin`, and the save ends with
  `EditConflict` showing both versions: still nothing lost. When `origin` cannot be reached
  the commit stays local (the site is built from it) and the next save (which pushes HEAD)
  or synchronisation pushes it.

Paths here are `CityFile`s (avf.editor.paths): named safely before they arrive.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from git import GitCommandError, InvalidGitRepositoryError, NoSuchPathError, Repo

from avf.editor.paths import CityFile

LOCK_NAME = "avf-checkout.lock"
PUSH_TIMEOUT = 60  # seconds: a forge that hangs must not hold every save
PUSH_ATTEMPTS = 3  # refused, rebased, refused again (a busy remote): then give up politely
SERVICE_NAME = "Service AVF"
_THREAD_LOCK = threading.RLock()


class CheckoutError(Exception):
    """The checkout cannot be written (not a git repository, a detached HEAD…); French."""


@dataclass(frozen=True)
class Author:
    """Who a commit is by: the volunteer's name and a no-reply address (never theirs)."""

    name: str
    email: str


@dataclass(frozen=True)
class Change:
    """One file of one save: its new content (None: delete it) and the version it started
    from (the blob id the form was opened on; "" for a new file; None: don't check)."""

    file: CityFile
    content: str | bytes | None
    base: str | None


class EditConflict(Exception):
    """The file changed since the person opened it: both versions, to merge."""

    def __init__(self, file: CityFile, theirs: str | None, theirs_blob: str, by: str,
                 when: datetime | None, rescue_branch: str | None = None):
        super().__init__(f"« {file.rel} » a été modifié par {by} pendant que vous "
                         "l'écriviez")
        self.file = file
        self.theirs = theirs  # the file as it is now (None: deleted meanwhile)
        self.theirs_blob = theirs_blob
        self.by = by  # who changed it
        self.when = when
        self.rescue_branch = rescue_branch  # where our commit was kept, after a failed rebase


@dataclass(frozen=True)
class Saved:
    """What a save did: the commit (None: nothing changed) and how the push went."""

    commit: str | None
    pushed: bool
    push_problem: str = ""


@dataclass(frozen=True)
class Version:
    """One version of a file in the history."""

    commit: str
    author: str
    author_email: str
    when: datetime
    message: str


class Checkout:
    """The content's git working tree, seen from the editor."""

    def __init__(self, content_dir: Path, branch: str | None = None, push: bool = True):
        try:
            self.repo = Repo(content_dir, search_parent_directories=True)
        except (InvalidGitRepositoryError, NoSuchPathError):
            raise CheckoutError(f"le dossier du contenu « {content_dir} » n'est pas un dépôt "
                                "git : l'éditeur ne peut pas enregistrer") from None
        if self.repo.bare or self.repo.working_tree_dir is None:
            raise CheckoutError("le contenu est un dépôt nu : il faut une copie de travail")
        self.repo.git.update_environment(GIT_TERMINAL_PROMPT="0", LC_ALL="C")
        self.work_tree = Path(self.repo.working_tree_dir).resolve()
        self.content_dir = content_dir.resolve()
        self.branch = branch
        self.push_enabled = push

    # --- Reading ------------------------------------------------------------------

    def repo_path(self, file: CityFile) -> str:
        """The file's path inside the repository (content/lyon/posts/x.md in a monorepo)."""
        return (self.content_dir / file.city / file.rel).relative_to(self.work_tree).as_posix()

    def blob(self, file: CityFile) -> str:
        """The id of the committed version of `file` ("" when it is not committed)."""
        return self._blob_at("HEAD", file)

    def text(self, file: CityFile, commit: str = "HEAD") -> str | None:
        """The file's text at `commit` (None when it did not exist there)."""
        data = self.data(file, commit)
        return None if data is None else data.decode("utf-8", errors="replace")

    def data(self, file: CityFile, commit: str = "HEAD") -> bytes | None:
        try:
            stream = self.repo.git.show(f"{commit}:{self.repo_path(file)}",
                                        stdout_as_string=False)
        except GitCommandError:
            return None
        return bytes(stream)

    def head(self) -> str:
        # git's own command, not GitPython's object database: that one keeps `git
        # cat-file` processes running for the life of the Repo (one per request here).
        try:
            return str(self.repo.git.rev_parse("--verify", "--quiet", "HEAD"))
        except GitCommandError:  # an empty repository
            return ""

    def history(self, file: CityFile, limit: int = 200) -> list[Version]:
        """Every commit that changed `file`, newest first."""
        try:
            output = self.repo.git.log(f"--max-count={limit}",
                                       "--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%s%x1e",
                                       "--", self.repo_path(file))
        except GitCommandError:
            return []
        versions = []
        for record in output.split("\x1e"):
            record = record.strip("\n")
            if not record:
                continue
            commit, name, email, when, message = record.split("\x1f", 4)
            versions.append(Version(commit, name, email,
                                    datetime.fromisoformat(when).astimezone(UTC), message))
        return versions

    def last_change(self, file: CityFile) -> Version | None:
        versions = self.history(file, limit=1)
        return versions[0] if versions else None

    # --- Writing ------------------------------------------------------------------

    @contextmanager
    def lock(self) -> Iterator[None]:
        """The one-writer lock, shared with the webhook's synchronisation."""
        with checkout_lock(Path(self.repo.git_dir)):
            yield

    def save(self, changes: Sequence[Change], author: Author, message: str) -> Saved:
        """Commit `changes` as `author` (after checking each base), then push."""
        with self.lock():
            self._check_branch()
            for change in changes:
                self._check_base(change)
            for change in changes:
                _write(change)
            paths = [self.repo_path(change.file) for change in changes]
            self.repo.git.add("--all", "--", *paths)
            if not self.repo.git.diff("--cached", "--name-only", "--", *paths).strip():
                return Saved(None, pushed=False)
            self.repo.git.commit(
                "--quiet", "--no-verify", "--only", "-m", message, "--", *paths,
                author=f"{author.name} <{author.email}>",
                env={"GIT_COMMITTER_NAME": SERVICE_NAME,
                     "GIT_COMMITTER_EMAIL": _committer_email(author)})
            commit = self.head()
            pushed, problem = self._push(changes)  # may raise EditConflict (module doc)
            return Saved(self.head() if pushed else commit, pushed, problem)

    # --- Internals ----------------------------------------------------------------

    def _check_branch(self) -> None:
        if self.repo.head.is_detached:
            raise CheckoutError("la copie du contenu n'est sur aucune branche : "
                                "impossible d'enregistrer")
        if self.branch and self.repo.active_branch.name != self.branch:
            raise CheckoutError(f"la copie du contenu n'est pas sur la branche publiée "
                                f"« {self.branch} » : impossible d'enregistrer")

    def _check_base(self, change: Change) -> None:
        if change.base is None:
            return
        current = self.blob(change.file)
        if current == change.base:
            return
        last = self.last_change(change.file)
        raise EditConflict(change.file, self.text(change.file), current,
                           last.author if last else "quelqu'un",
                           last.when if last else None)

    def _blob_at(self, commit: str, file: CityFile) -> str:
        try:
            return str(self.repo.git.rev_parse("--verify", "--quiet",
                                               f"{commit}:{self.repo_path(file)}"))
        except GitCommandError:
            return ""

    def _origin(self) -> bool:
        return self.push_enabled and "origin" in [remote.name for remote in self.repo.remotes]

    def _push(self, changes: Sequence[Change]) -> tuple[bool, str]:
        if not self._origin():
            return False, ""
        branch = self.repo.active_branch.name
        for _attempt in range(PUSH_ATTEMPTS):
            try:
                self.repo.git.push("--quiet", "origin", f"HEAD:refs/heads/{branch}",
                                   kill_after_timeout=PUSH_TIMEOUT)
                return True, ""
            except GitCommandError as error:
                if not _refused_as_behind(error):
                    return False, ("votre modification est enregistrée et sera mise en ligne, "
                                   "mais l'envoi vers le dépôt central a échoué ; il sera "
                                   "refait automatiquement")
            self._follow_origin(branch, changes)
        return False, ("le dépôt central change sans cesse : votre modification est "
                       "enregistrée ici et sera envoyée à la prochaine occasion")

    def _follow_origin(self, branch: str, changes: Sequence[Change]) -> None:
        """Someone pushed first: replay our commits on theirs (never a forced push)."""
        try:
            self.repo.git.fetch("--quiet", "origin", kill_after_timeout=PUSH_TIMEOUT)
        except GitCommandError:
            return
        upstream = f"refs/remotes/origin/{branch}"
        try:
            self.repo.git.rebase("--quiet", upstream)
            return
        except GitCommandError:
            self.repo.git.rebase("--abort")
        rescue = f"avf/sauvegarde-{datetime.now(UTC):%Y%m%d-%H%M%S}"
        self.repo.git.branch(rescue)
        self.repo.git.reset("--keep", upstream)
        for change in changes:  # the first of our files that someone else changed
            theirs = self.text(change.file)
            last = self.last_change(change.file)
            raise EditConflict(change.file, theirs, self.blob(change.file),
                               last.author if last else "quelqu'un",
                               last.when if last else None, rescue_branch=rescue)


@contextmanager
def checkout_lock(git_dir: Path) -> Iterator[None]:
    """Hold the checkout for writing (threads of this process, and other processes)."""
    with _THREAD_LOCK, open(git_dir / LOCK_NAME, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write(change: Change) -> None:
    path = change.file.path
    if change.content is None:
        if path.is_file():
            path.unlink()
        return
    data = change.content.encode("utf-8") if isinstance(change.content, str) else change.content
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".avf-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)  # a reader never sees half a file
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _refused_as_behind(error: GitCommandError) -> bool:
    text = f"{error.stderr}{error.stdout}"
    return any(word in text for word in ("non-fast-forward", "fetch first", "rejected"))


def _committer_email(author: Author) -> str:
    domain = author.email.partition("@")[2] or "avf.invalid"
    return f"service@{domain}"


def volunteer_author(person_id: int, display_name: str, host: str) -> Author:
    """The author of a volunteer's commits: their name, and a no-reply address that names
    the account (`benevole-42@noreply.<host>`) — their own address never enters git.
    The name is typed by the person (their profile): `<` and `>` are taken out, or
    `Name <someone-else> <…>` would make git take the first address as the author's."""
    name = " ".join(display_name.replace("<", " ").replace(">", " ").split()) \
        or "Bénévole AVF"
    domain = host.split(":")[0] or "avf.invalid"
    return Author(name[:100], f"benevole-{person_id}@noreply.{domain}")


def author_person_id(email: str) -> int | None:
    """The account a no-reply author address names (volunteer_author's), or None."""
    local, _, domain = email.lower().partition("@")
    if not domain.startswith("noreply.") or not local.startswith("benevole-"):
        return None
    number = local.removeprefix("benevole-")
    return int(number) if number.isdigit() else None
