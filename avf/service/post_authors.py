"""Who wrote a post, as git knows it: the author of the commit that added the post's file to
the content repository, mapped to an account by its address.

A post's front matter `author` is free text (a name, a signature), not an account; but
every edit of the content is a commit (volunteers push, and the web editor commits as the
volunteer, with a no-reply address naming the account: `avf.editor.checkout`), so the
commit that added the file names its writer. Nobody is
found — never an error — when the content folder is not a git checkout, the file is not
committed, or no account has that address: the post's author is then simply not told.

The file is found by the slug the build gives it (`avf.content.documents.read_document`,
so the `slug` field or the file's name, by the content's own rules). git is asked once per
post and content commit (`lru_cache` keyed by HEAD): a busy thread does not run it again.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from git import GitCommandError, InvalidGitRepositoryError, NoSuchPathError, Repo
from sqlalchemy import Connection, select

from avf.content.documents import read_document
from avf.content.loader import MARKDOWN_SUFFIXES
from avf.content.model import SLUG_PATTERN
from avf.content.problems import ContentError
from avf.editor.checkout import author_person_id
from avf.service.accounts import InvalidEmail, normalize_email, person_id_for
from avf.store.schema import people

POST_TARGET = "post:"
CACHED_POSTS = 1024  # (city, slug, commit) answers kept; a few bytes each


def post_author_id(connection: Connection, content_dir: Path, city: str,
                   target: str) -> int | None:
    """The account that added the post of a "post:<slug>" thread, or None (a topic, or
    nobody found: the module's docstring)."""
    if not target.startswith(POST_TARGET):
        return None
    email = post_author_email(content_dir, city, target.removeprefix(POST_TARGET))
    if email is None:
        return None
    from_editor = author_person_id(email)  # the web editor's no-reply address names the account
    if from_editor is not None:  # …if it still exists
        return connection.execute(select(people.c.id).where(people.c.id == from_editor)
                                  ).scalar_one_or_none()
    try:
        return person_id_for(connection, normalize_email(email))
    except InvalidEmail:  # git accepts any text as an address
        return None


def post_author_email(content_dir: Path, city: str, slug: str) -> str | None:
    """The address of the commit that added the city's post `slug`, or None."""
    if not SLUG_PATTERN.match(city) or not SLUG_PATTERN.match(slug):
        return None
    head = _head(content_dir)
    if head is None:
        return None
    return _added_by(str(content_dir.resolve()), city, slug, head)


def _head(content_dir: Path) -> str | None:
    """The checkout's current commit (read from its files, no git process)."""
    try:
        with Repo(content_dir, search_parent_directories=True) as repo:
            return repo.head.commit.hexsha
    except (InvalidGitRepositoryError, NoSuchPathError, ValueError):  # ValueError: no commit
        return None


@lru_cache(maxsize=CACHED_POSTS)
def _added_by(content_dir: str, city: str, slug: str, head: str) -> str | None:
    """`post_author_email` for one commit of the content (`head` is the cache's key)."""
    path = _post_file(Path(content_dir) / city, slug)
    if path is None:
        return None
    try:
        with Repo(content_dir, search_parent_directories=True) as repo:
            root = Path(repo.working_tree_dir or content_dir).resolve()
            # The latest commit that added the file (a deleted and re-added post has a
            # new writer); --follow goes back through renames to the first name.
            found = repo.git.log(head, "--follow", "--diff-filter=A", "--max-count=1",
                                 "--format=%ae", "--", path.resolve().relative_to(root)
                                 .as_posix())
    except (InvalidGitRepositoryError, NoSuchPathError, GitCommandError, ValueError):
        return None
    return found.strip() or None


def _post_file(city_dir: Path, slug: str) -> Path | None:
    """The city's post file whose slug is `slug`, read as the build reads it."""
    posts = city_dir / "posts"
    if not posts.is_dir():
        return None
    candidates = [path for path in posts.rglob("*")
                  if path.suffix in MARKDOWN_SUFFIXES and path.is_file()
                  and not path.is_symlink()
                  and not any(part.startswith(".") for part in path.relative_to(posts).parts)]
    # Files named after the slug first: usually the first one read is the right one.
    for path in sorted(candidates, key=lambda path: (slug not in path.stem, path)):
        shown_as = path.relative_to(city_dir).as_posix()
        try:
            document = read_document(path, city_dir, shown_as, "post")
        except (ContentError, OSError):
            continue
        if document.slug == slug:
            return path
    return None
