"""The "Corbeille": the city's posts and pages deleted in git, and bringing one back.

Nothing deleted is lost — git keeps every version — but a volunteer cannot be expected to
know that: this lists each deletion (who, when, the last text) from `git log
--diff-filter=D`, and restores a text as a new commit by the person, as a draft (it went
off line when it was deleted: putting it back on line is a separate, deliberate act).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from git import GitCommandError

from avf.editor.checkout import Author, Change, Checkout, Saved
from avf.editor.drafts import Draft, DraftError, read_draft, write_draft
from avf.editor.paths import DOCUMENT_FOLDERS, CityFile, PathRefused, city_file
from avf.editor.validation import check_document
from avf.editor.workflow import Invalid, Refused

MAX_DELETIONS = 200  # the newest ones; older deletions are still in git


@dataclass(frozen=True)
class Deletion:
    """One text deleted: the commit that deleted it, by whom and when, and the commit of
    its last version (its text, and the version `restore` brings back)."""

    file: CityFile
    commit: str
    author: str
    when: datetime
    message: str
    last_version: str
    title: str

    @property
    def exists_again(self) -> bool:
        """A file of that name was written since: restoring would overwrite it."""
        return self.file.path.exists()


def deleted_texts(checkout: Checkout, content_dir: Path, city: str) -> list[Deletion]:
    """The city's deleted posts and pages, newest deletion first."""
    prefix = (content_dir.resolve() / city).relative_to(checkout.work_tree).as_posix()
    try:
        output = checkout.repo.git.execute(
            ["git", "-c", "core.quotePath=false", "log", "--diff-filter=D", "--no-renames",
             f"--max-count={MAX_DELETIONS}", "--name-only",
             "--format=%x1e%H%x1f%an%x1f%aI%x1f%s", "--",
             *(f"{prefix}/{folder}" for folder in DOCUMENT_FOLDERS)])
    except GitCommandError:
        return []
    deletions = []
    for record in str(output).split("\x1e"):
        header, _, names = record.strip("\n").partition("\n")
        if not header:
            continue
        commit, author, when, message = header.split("\x1f", 3)
        for name in names.split("\n"):
            rel = name.strip().removeprefix(f"{prefix}/")
            deletion = _deletion(checkout, content_dir, city, rel, commit, author, when,
                                 message)
            if deletion is not None:
                deletions.append(deletion)
    return deletions


def find_deletion(checkout: Checkout, content_dir: Path, city: str,
                  rel: str) -> Deletion | None:
    """The newest deletion of `rel` in `city`, if it was deleted."""
    return next((deletion for deletion in deleted_texts(checkout, content_dir, city)
                 if deletion.file.rel == rel), None)


def restore_deleted(checkout: Checkout, content_dir: Path, deletion: Deletion,
                    author: Author) -> Saved:
    """Write the deleted text back, as a draft, in one commit by `author`. Refused when a
    file of that name exists again; Invalid when the city would not build with it."""
    if deletion.exists_again:
        raise Refused("un texte du même nom existe à nouveau : ouvrez-le plutôt, ou "
                      "copiez ce qu'il vous faut de l'ancien texte")
    old = checkout.text(deletion.file, deletion.last_version)
    if old is None:
        raise Refused("le dernier texte de cette page est introuvable")
    text = _as_draft(old)
    errors = [problem for problem in check_document(content_dir, deletion.file, text)
              if problem.is_error]
    if errors:
        raise Invalid(errors)
    where = deletion.file.city
    message = (f"Rétabli depuis la corbeille : « {deletion.title[:80]} » ({where})\n\n"
               f"Fichier : {where}/{deletion.file.rel}\n"
               f"Version rétablie : {deletion.last_version[:12]}")
    return checkout.save([Change(deletion.file, text, "")], author, message)


def _deletion(checkout: Checkout, content_dir: Path, city: str, rel: str, commit: str,
              author: str, when: str, message: str) -> Deletion | None:
    try:
        file = city_file(content_dir, city, rel)
    except PathRefused:
        return None  # a name the editor cannot handle (still in git, never lost)
    last = _last_version(checkout, file, commit)
    if not last:
        return None
    text = checkout.text(file, last) or ""
    try:
        title = read_draft(text).title or rel
    except DraftError:
        title = rel
    return Deletion(file, commit, author, datetime.fromisoformat(when).astimezone(UTC),
                    message, last, title)


def _last_version(checkout: Checkout, file: CityFile, deleted_by: str) -> str:
    """The last commit that wrote `file` before `deleted_by` deleted it."""
    try:
        return str(checkout.repo.git.log("-1", "--format=%H", f"{deleted_by}^", "--",
                                          checkout.repo_path(file))).strip()
    except GitCommandError:
        return ""


def _as_draft(text: str) -> str:
    try:
        draft = read_draft(text)
    except DraftError:
        return text  # check_document will say what is wrong with it
    return write_draft(Draft({**draft.fields, "status": "draft"}, draft.body))
