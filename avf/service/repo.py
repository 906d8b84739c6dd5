"""The content checkout, owned by the service: fetch its `origin`, move the published
branch to what was pushed, and tell which cities the move touched.

The checkout is moved with `git reset --keep`: a force-push is followed like any push, and
a local change git would have to overwrite (an edited file the push also changes, an
untracked file in the way) stops the move with an error instead of being lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from git import GitCommandError, InvalidGitRepositoryError, NoSuchPathError, Repo

from avf.editor.checkout import checkout_lock

EVERY_CITY = "*"
NETWORK_FOLDER = "_network"
# Shared by every city when the content repository also holds them (a monorepo, like the
# project itself): a change to one of these may change every site.
SHARED_FOLDERS = frozenset({"themes", "plugins"})
SHARED_FILES = frozenset({"pelicanconf.py", "publishconf.py"})
FETCH_TIMEOUT = 120  # seconds; a forge that does not answer must not hold the queue forever


class RepoError(Exception):
    """The checkout cannot be synchronised; the message says why, in French."""


@dataclass(frozen=True)
class Sync:
    """What a synchronisation did: the branch moved from `before` to `after`."""

    branch: str
    before: str
    after: str
    cities: list[str]  # touched cities, sorted; EVERY_CITY alone when all may change
    paths: list[str] = field(default_factory=list)  # changed paths, relative to the repo
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """French lines for the job's log."""
        if self.before == self.after:
            lines = [f"Branche {self.branch} déjà à jour ({self.after[:12]})."]
        else:
            lines = [f"Branche {self.branch} : {self.before[:12]} → {self.after[:12]}, "
                     f"{len(self.paths)} fichier(s) modifié(s)."]
            touched = ("tout le réseau" if self.cities == [EVERY_CITY]
                       else ", ".join(self.cities) or "aucune")
            lines.append(f"Villes à reconstruire : {touched}.")
        return "\n".join([*lines, *self.notes])


def tracked_branch(content_dir: Path, configured: str | None) -> str:
    """The branch whose pushes are published: AVF_GIT_BRANCH, else the checkout's own."""
    if configured:
        return configured
    with _open(content_dir) as repo:
        if repo.head.is_detached:
            raise RepoError("la copie du contenu n'est sur aucune branche (HEAD détachée) : "
                            "choisissez la branche publiée avec AVF_GIT_BRANCH")
        return repo.active_branch.name


def sync(content_dir: Path, branch: str, commit: str,
         hold: Callable[[], AbstractContextManager[object]] = nullcontext) -> Sync:
    """Fetch origin, check that `commit` arrived, and move the checkout to the tip of
    origin's `branch` (which holds that commit and any later push). `hold` is taken
    while the files move: the build lock, so that no build reads a half-moved checkout."""
    with _open(content_dir) as repo, checkout_lock(Path(repo.git_dir)):
        return _move(repo, content_dir, branch, commit, hold)


def _move(repo: Repo, content_dir: Path, branch: str, commit: str,
          hold: Callable[[], AbstractContextManager[object]]) -> Sync:
    if repo.head.is_detached or repo.active_branch.name != branch:
        current = "aucune" if repo.head.is_detached else repo.active_branch.name
        raise RepoError(f"la copie du contenu est sur la branche « {current} », pas sur "
                        f"la branche publiée « {branch} » : passez-la sur « {branch} »")
    before = repo.head.commit.hexsha
    published = _remote_tip(repo, branch)  # origin's branch as last fetched
    if not _contains(repo, before, commit):  # a later sync may already have moved past it
        _fetch(repo)
        if not _exists(repo, commit):
            raise RepoError(f"le commit poussé {commit[:12]} est introuvable dans « origin » "
                            "après récupération : ce webhook vient-il bien du dépôt du "
                            "contenu ?")
    tip = _remote_tip(repo, branch)
    if tip is None:
        raise RepoError(f"« origin » n'a pas de branche « {branch} »")
    if _contains(repo, before, tip):  # nothing new (or the checkout is ahead of origin)
        return Sync(branch, before, before, [])
    notes = []
    local = not _contains(repo, tip, before) and not (published and
                                                      _contains(repo, published, before))
    if local:  # the editor's commits that origin could not take yet: replay them on top
        with hold():
            notes.append(_replay_local_commits(repo, branch, before, tip))
        after = repo.head.commit.hexsha
        paths = _changed_paths(repo, before, after)
        cities = touched_cities(content_dir, Path(str(repo.working_tree_dir)), paths)
        return Sync(branch, before, after, cities, paths, notes)
    if not _contains(repo, tip, commit):
        notes.append(f"Le commit poussé {commit[:12]} n'est plus sur {branch} (poussée "
                     "forcée ?) : la copie suit origin.")
    with hold():
        try:
            repo.git.reset("--keep", tip)
        except GitCommandError as error:
            raise RepoError("la copie du contenu a des modifications locales que ce push "
                            "écraserait ; enregistrez-les (commit) ou annulez-les : "
                            + _git_message(error)) from None
    paths = _changed_paths(repo, before, tip)
    cities = touched_cities(content_dir, Path(str(repo.working_tree_dir)), paths)
    return Sync(branch, before, tip, cities, paths, notes)


def _replay_local_commits(repo: Repo, branch: str, before: str, tip: str) -> str:
    """Rebase commits made here (the web editor's, when origin was unreachable) onto what
    was pushed, and push them; when they conflict, keep them on a rescue branch and follow
    origin — nothing is lost, nothing is forced."""
    try:
        repo.git.rebase("--quiet", tip)
    except GitCommandError:
        repo.git.rebase("--abort")
        rescue = f"avf/sauvegarde-{before[:12]}"
        repo.git.branch("--force", rescue, before)
        repo.git.reset("--keep", tip)
        return (f"Des modifications faites ici (jusqu'à {before[:12]}) entrent en conflit "
                f"avec origin : gardées sur la branche {rescue}, la copie suit origin.")
    try:
        repo.git.push("--quiet", "origin", f"HEAD:refs/heads/{branch}",
                      kill_after_timeout=FETCH_TIMEOUT)
    except GitCommandError as error:
        return ("Modifications locales rejouées sur origin ; leur envoi a échoué : "
                + _git_message(error))
    return "Modifications locales rejouées sur origin et envoyées."


def touched_cities(content_dir: Path, work_tree: Path, paths: Iterable[str]) -> list[str]:
    """The cities a change to `paths` (relative to the work tree) may change: a city's own
    folder → that city; the network's folder, the theme, the plugins, the settings or a
    city folder that is gone (it must be retired) → EVERY_CITY."""
    content = content_dir.resolve()
    prefix = PurePosixPath(content.relative_to(work_tree.resolve()).as_posix())
    cities: set[str] = set()
    for path in map(PurePosixPath, paths):
        if prefix.parts and not path.is_relative_to(prefix):
            shared = path.parts[0] in SHARED_FOLDERS or str(path) in SHARED_FILES
            if shared:
                return [EVERY_CITY]
            continue
        inside = path.relative_to(prefix) if prefix.parts else path
        first = inside.parts[0]
        if len(inside.parts) == 1:  # a file at the content's top: not a city's
            if first in SHARED_FILES:
                return [EVERY_CITY]
            continue
        if first == NETWORK_FOLDER or first in SHARED_FOLDERS:
            return [EVERY_CITY]
        if first.startswith((".", "_")):
            continue
        if not (content / first).is_dir():
            return [EVERY_CITY]  # the city left: only a whole-network build retires it
        cities.add(first)
    return sorted(cities)


def _open(content_dir: Path) -> Repo:
    try:
        repo = Repo(content_dir, search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError):
        raise RepoError(f"le dossier du contenu « {content_dir} » n'est pas un dépôt git : "
                        "le service ne peut pas le mettre à jour") from None
    if repo.bare or repo.working_tree_dir is None:
        raise RepoError(f"« {content_dir} » est un dépôt nu : il faut une copie de travail")
    repo.git.update_environment(GIT_TERMINAL_PROMPT="0")  # never wait for a password
    return repo


def _fetch(repo: Repo) -> None:
    if "origin" not in [remote.name for remote in repo.remotes]:
        raise RepoError("la copie du contenu n'a pas de dépôt « origin » d'où récupérer")
    try:
        repo.git.fetch("origin", "--quiet", kill_after_timeout=FETCH_TIMEOUT)
    except GitCommandError as error:
        raise RepoError("la récupération depuis « origin » a échoué : "
                        + _git_message(error)) from None


def _remote_tip(repo: Repo, branch: str) -> str | None:
    try:
        return str(repo.git.rev_parse("--verify", "--quiet",
                                      f"refs/remotes/origin/{branch}^{{commit}}"))
    except GitCommandError:
        return None


def _exists(repo: Repo, commit: str) -> bool:
    try:
        repo.git.cat_file("-e", f"{commit}^{{commit}}")
    except GitCommandError:
        return False
    return True


def _contains(repo: Repo, descendant: str, commit: str) -> bool:
    """Whether `commit` is `descendant` or one of its ancestors."""
    if not _exists(repo, commit):
        return False
    try:
        repo.git.merge_base("--is-ancestor", commit, descendant)
    except GitCommandError:
        return False
    return True


def _changed_paths(repo: Repo, before: str, after: str) -> list[str]:
    # --no-renames: a renamed file is its old path removed and its new path added, so a
    # file moved from one city to another touches both.
    listing = repo.git.diff("--name-only", "--no-renames", "-z", before, after)
    return [path for path in listing.split("\0") if path]


def _git_message(error: GitCommandError) -> str:
    text = error.stderr if isinstance(error.stderr, str) else str(error)
    lines = [line.strip().removeprefix("stderr: ").strip("'") for line in text.splitlines()]
    return " ".join(line for line in lines if line) or str(error)
