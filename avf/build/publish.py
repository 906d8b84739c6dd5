"""Atomic publishing: a build is staged in its own release folder, then put online by
swapping a symbolic link in one `rename` — a reader never sees a half-built city.

    OUT/public/lyon   -> ../.releases/lyon/<id>/public
    OUT/members/lyon  -> ../.releases/lyon/<id>/members
    OUT/public/theme  -> ../.releases/_theme/<hash>   (one copy for the whole network)
    OUT/public/index.html, reseau/, actualites/ ... -> ../.releases/_portal/<id>/public/...

A failed build's release is discarded and the previous one stays online.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from pathlib import Path

from avf.build.objects import release_objects_of
from avf.build.precompress import precompress_folder

RELEASES = ".releases"
PORTAL = "_portal"
THEME = "_theme"


class PublishError(Exception):
    """Publishing would overwrite something it does not own."""


def new_release(output_dir: Path, slug: str) -> Path:
    """A fresh, empty release folder for one city (or the portal), sortable by time."""
    release = release_path(output_dir, slug)
    (release / "public").mkdir(parents=True)
    (release / "members").mkdir()
    return release


def release_path(output_dir: Path, slug: str) -> Path:
    """Where a new release of one city (or the portal) goes: a name sortable by time,
    not yet created."""
    release_id = f"{time.time_ns():020d}-{uuid.uuid4().hex[:6]}"
    return output_dir / RELEASES / slug / release_id


def discard(release: Path) -> None:
    shutil.rmtree(release, ignore_errors=True)


def publish_city(output_dir: Path, slug: str, release: Path) -> None:
    """Put a city's release online (public and members at once), then prune old releases:
    only the one that was online until now is kept, for a quick rollback."""
    previous = _release_of(output_dir / "public" / slug)
    swap_link(output_dir / "members" / slug, release / "members")
    swap_link(output_dir / "public" / slug, release / "public")
    prune(output_dir / RELEASES / slug, keep={release.name, previous})


def publish_portal(output_dir: Path, release: Path) -> None:
    """Link each top-level entry of the portal's release into OUT/public, drop stale ones."""
    public = output_dir / "public"
    portal_releases = (output_dir / RELEASES / PORTAL).resolve()
    entries = sorted(os.listdir(release / "public"), key=lambda name: name == "index.html")
    taken = sorted(name for name in entries if _owner(public / name) not in
                   (None, PORTAL))
    if taken:
        raise PublishError("le portail voudrait remplacer le site de : " + ", ".join(taken))
    previous = _release_of(public / "index.html")
    for name in entries:  # index.html last, so the home never links to a missing page
        swap_link(public / name, release / "public" / name)
    for link in public.iterdir():
        if link.name not in entries and link.is_symlink():
            target = Path(os.path.realpath(link))
            if target.is_relative_to(portal_releases):
                link.unlink()
    prune(output_dir / RELEASES / PORTAL, keep={release.name, previous})


THEME_VERSIONS_KEPT = 5  # pages not rebuilt since (a --city build) still name theirs


def publish_theme(output_dir: Path, static_dir: Path) -> str:
    """Publish the theme's static files once for the network, under a version of their own
    (`/theme/<version>/css/avf.css`); return the version.

    Pages name the version they were built with, so a page never gets a stylesheet newer
    than its HTML, and the versions still named by cities not yet rebuilt stay online.
    """
    version = tree_hash(static_dir)[:12]
    versions = output_dir / RELEASES / THEME
    release = versions / version
    if not release.is_dir():
        staging = versions / f".{version}-{uuid.uuid4().hex[:8]}"
        shutil.copytree(static_dir, staging)
        precompress_folder(staging)
        os.replace(staging, release)
    else:  # a version published under another rule is brought to this one (else: stats)
        precompress_folder(release)
    os.utime(release)  # the most recently used versions are the ones kept
    (output_dir / "public").mkdir(parents=True, exist_ok=True)
    if _release_of_theme(output_dir / "public" / "theme") != versions.resolve():
        swap_link(output_dir / "public" / "theme", versions)
    older = sorted((entry for entry in versions.iterdir() if not entry.name.startswith(".")),
                   key=lambda entry: entry.stat().st_mtime, reverse=True)
    for other in older[THEME_VERSIONS_KEPT:]:
        shutil.rmtree(other, ignore_errors=True)
    return version


def _release_of_theme(link: Path) -> Path | None:
    return link.resolve() if link.is_symlink() else None


def retire_city(output_dir: Path, slug: str) -> None:
    """Take a city offline (its folder left the content): links first, then its releases."""
    for area in ("public", "members"):
        link = output_dir / area / slug
        if link.is_symlink():
            link.unlink()
    releases = output_dir / RELEASES / slug
    for release in releases.iterdir() if releases.is_dir() else []:
        remove_release(release, output_dir)
    shutil.rmtree(releases, ignore_errors=True)


def online_cities(output_dir: Path) -> set[str]:
    """Cities with a release online (a link into OUT/.releases/<slug>/)."""
    public = output_dir / "public"
    if not public.is_dir():
        return set()
    with os.scandir(public) as entries:  # ~350 links: strings, no Path per entry
        return {entry.name for entry in entries
                if entry.is_symlink() and _owner(entry.path) == entry.name}


def _owner(entry: Path | str) -> str | None:
    """Whose release a link of OUT/public points into (a city slug, _portal, _theme).

    Reads the link itself (one system call): our links are always relative,
    `../.releases/<owner>/...`, as `swap_link` writes them.
    """
    try:
        parts = os.readlink(entry).split(os.sep)
    except OSError:  # not a link
        return None
    if len(parts) > 2 and parts[0] == ".." and parts[1] == RELEASES and parts[2]:
        return parts[2]
    return None


def swap_link(link: Path, target: Path) -> None:
    """Point `link` at `target` atomically (a relative symlink, replaced by rename)."""
    link.parent.mkdir(parents=True, exist_ok=True)
    temporary = link.with_name(f".{link.name}.{uuid.uuid4().hex[:8]}.tmp")
    os.symlink(os.path.relpath(target, link.parent), temporary)
    if link.is_dir() and not link.is_symlink():
        # A real folder from an older layout: move it aside, then remove it.
        aside = link.with_name(f".{link.name}.old-{uuid.uuid4().hex[:8]}")
        os.rename(link, aside)
        os.replace(temporary, link)
        shutil.rmtree(aside, ignore_errors=True)
        return
    os.replace(temporary, link)


def prune(folder: Path, keep: set[str | None]) -> None:
    """Remove every release of one site but those in `keep` (online now, online before).

    Releases left by a crashed build were never online: they go too. Builds hold a lock,
    so no other build is writing a release meanwhile.
    """
    if not folder.is_dir():
        return
    for release in folder.iterdir():
        if release.is_dir() and not release.name.startswith(".") and release.name not in keep:
            remove_release(release, folder.parents[1])


def online_release(output_dir: Path, slug: str) -> Path | None:
    """The release folder of a city (or, for `PORTAL`, the portal) online now, if any."""
    link = output_dir / "public" / ("index.html" if slug == PORTAL else slug)
    release_id = _release_of(link)
    if release_id is None or _owner(link) != slug:
        return None
    release = output_dir / RELEASES / slug / release_id
    return release if release.is_dir() else None


def _release_of(link: Path) -> str | None:
    """The release id a public link points into (`../.releases/<site>/<id>/…`)."""
    try:
        parts = Path(os.readlink(link)).parts
    except OSError:
        return None
    return parts[3] if len(parts) > 3 and parts[1] == RELEASES else None


def remove_release(release: Path, output_dir: Path) -> None:
    """Delete a release and the objects no other release shares (a release pruned, or one
    that failed half-stored)."""
    orphans = release_objects_of(release, output_dir)
    shutil.rmtree(release, ignore_errors=True)
    for orphan in orphans:
        orphan.unlink(missing_ok=True)


def tree_hash(folder: Path) -> str:
    """A content hash of a folder (names and bytes), stable across machines."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()
