"""Full-text search: Pagefind indexes a site's public pages into its own release.

The index is written into `<release>/public/pagefind/` before the release goes online, so
it is published (and rolled back) atomically with the pages it describes, and rebuilt
exactly when the city is. Member-only pages live in `<release>/members/`, which Pagefind
is never pointed at: their text cannot reach a public index.

Pagefind comes from PyPI (`pagefind[bin]`): the wheel ships the native binary, which we
run directly, one process per site: ~0.04 s for a city of 40 indexed pages, nearly all of
it indexing (starting the binary takes ~5 ms, so one long-running Pagefind service per
worker, which its Python API offers, would save almost nothing).

A rebuild whose indexed text did not change (a theme, code or settings change rebuilds
every city) reuses the previous release's index instead of running Pagefind again: see
`start_index`.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from avf.build.objects import OBJECTS, store_sibling
from avf.build.precompress import ENCODERS, is_compressible

BUNDLE = "pagefind"  # folder of the index inside a site, and its URL path
LANGUAGE = "fr"  # every page is `<html lang="fr">`; forcing it keeps one index per site
# Parts of the bundle no page of ours loads (Pagefind's other UIs): not published.
UNUSED_FILES = ("pagefind-component-ui.js", "pagefind-component-ui.css",
                "pagefind-modular-ui.js", "pagefind-modular-ui.css", "pagefind-highlight.js",
                "wasm.unknown.pagefind")
TIMEOUT = 120  # seconds; a site of a few hundred pages takes well under one
# What is indexed: posts and news (`actualites/x.html`), standing pages and the home
# (`x/index.html`, `index.html`). Not the lists (`index-2.html`, `archives.html`,
# `etiquettes/x.html`): they repeat the summaries of posts that are indexed themselves, so
# a search found each post up to four times. A third of a city's pages, ~20 % of its
# indexing time and a third of its index files.
PAGES = "{actualites/*.html,**/index.html}"
# Beside the release's public/ and members/ (never published): what the index was made
# from, one line `<kind> <sha256>` (see `start_index`).
KEY_FILE = "search-index.key"


class SearchIndexError(Exception):
    """Pagefind could not index a site (missing binary, or it failed)."""


@cache
def pagefind_executable() -> Path:
    """The Pagefind binary shipped by the `pagefind-bin` wheel."""
    try:
        from pagefind_bin import get_executable
    except ImportError as error:
        raise SearchIndexError("Pagefind n'est pas installé (paquet pagefind[bin])") from error
    return get_executable()


class _Pagefind:
    """Pagefind indexing one site, started at once and waited for later: the worker stores
    the site's pages meanwhile (Pagefind runs on the other core)."""

    def __init__(self, public: Path):
        self.public = public
        command = [str(pagefind_executable()), "--site", str(public), "--output-subdir",
                   BUNDLE, "--force-language", LANGUAGE, "--glob", PAGES, "--silent"]
        try:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True)
        except OSError as error:
            raise SearchIndexError(f"l'index de recherche n'a pas pu être créé : {error}"
                                   ) from error

    def wait(self) -> None:
        try:
            out, err = self.process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired as error:
            self.stop()
            raise SearchIndexError(f"l'index de recherche n'a pas pu être créé : {error}"
                                   ) from error
        if self.process.returncode != 0:
            detail = (err or out).strip().splitlines()[-1:] or ["?"]
            raise SearchIndexError(f"l'index de recherche n'a pas pu être créé : {detail[0]}")
        for name in UNUSED_FILES:
            (self.public / BUNDLE / name).unlink(missing_ok=True)

    def stop(self) -> None:
        """End Pagefind if it still runs, and close its pipes (also when it ended unread)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


class PendingIndex:
    """A site's search index on its way (see `start_index`): `finish()` waits for it and
    says whether the previous one was reused; `stop()` (always safe) ends Pagefind if it
    still runs, after a failure elsewhere."""

    def __init__(self, release: Path, keys: tuple[str, str], theme_version: str,
                 pagefind: _Pagefind | None, reused_from: Path | None = None):
        self.release, self.keys, self.theme_version = release, keys, theme_version
        self.pagefind = pagefind
        # The release whose index is kept (`link_index` puts it in the new release).
        self.reused_from = reused_from

    def finish(self) -> bool:
        if self.pagefind is None:
            return True
        self.pagefind.wait()
        normalised, exact = self.keys
        public = self.release / "public"
        names_theme = bool(self.theme_version) and _index_mentions(
            public / BUNDLE, f"/theme/{self.theme_version}".encode())
        key = f"exact {exact}" if names_theme else f"normalised {normalised}"
        (self.release / KEY_FILE).write_text(key + "\n", encoding="ascii")
        return False

    def stop(self) -> None:
        if self.pagefind is not None:
            self.pagefind.stop()


def start_index(release: Path, previous: Path | None, theme_version: str) -> PendingIndex:
    """Start giving `release/public` its index: the one of `previous` (the release online
    until now) when the pages Pagefind reads are the same, else a new one, which Pagefind
    makes while the caller goes on (nothing may change the pages meanwhile).

    The key is a hash of every page the glob can reach (path and bytes), Pagefind's
    version and our options, with the theme's versioned URL (`/theme/<version>`) written
    as `/theme/-`: a theme change alone then keeps the key. That holds only while the
    index itself never names the theme URL, so after indexing we look: if any index file
    does, the key stored is the exact one (theme URL included), which a theme change
    breaks. A missing, damaged or different key means indexing again.
    """
    public = release / "public"
    normalised, exact = _page_digests(public, theme_version)
    if previous is not None and _reusable(previous, {f"normalised {normalised}",
                                                     f"exact {exact}"}):
        (release / KEY_FILE).write_text((previous / KEY_FILE).read_text(encoding="ascii"),
                                        encoding="ascii")
        return PendingIndex(release, (normalised, exact), theme_version, None,
                            reused_from=previous)
    return PendingIndex(release, (normalised, exact), theme_version, _Pagefind(public))


def _page_digests(public: Path, theme_version: str) -> tuple[str, str]:
    """SHA-256 of the indexable pages with the theme URL normalised, and exactly as written.

    Covers every `actualites/**.html` and every `index.html`: at least the pages `PAGES`
    matches, so a change in any page Pagefind reads changes the key.
    """
    options = "\0".join([_pagefind_version(), BUNDLE, LANGUAGE, PAGES, *UNUSED_FILES])
    normalised = hashlib.sha256(options.encode())
    exact = hashlib.sha256(options.encode())
    theme = f"/theme/{theme_version}".encode() if theme_version else None
    for relative in _indexable_pages(public):
        data = (public / relative).read_bytes()
        header = f"\0{relative}\0{len(data)}\0".encode()
        exact.update(header)
        exact.update(data)
        if theme is not None:
            data = data.replace(theme, b"/theme/-")
        normalised.update(f"\0{relative}\0{len(data)}\0".encode())
        normalised.update(data)
    return normalised.hexdigest(), exact.hexdigest()


def _indexable_pages(public: Path) -> list[str]:
    pages = []
    for root, dirs, files in os.walk(public):
        dirs.sort()
        relative_root = Path(root).relative_to(public).as_posix()
        in_news = relative_root == "actualites" or relative_root.startswith("actualites/")
        for name in sorted(files):
            if name == "index.html" or (in_news and name.endswith(".html")):
                pages.append(name if relative_root == "." else f"{relative_root}/{name}")
    return pages


def _reusable(previous: Path, keys: set[str]) -> bool:
    """Whether the previous release's index was made from pages with one of `keys`."""
    try:
        stored = (previous / KEY_FILE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return False
    return stored in keys and (previous / "public" / BUNDLE / "pagefind-entry.json").is_file()


def link_index(previous: Path, release: Path, output_dir: Path, precompress: bool) -> None:
    """Put the previous release's index into `release` (on the same disk) as hard links:
    its files are content-addressed objects already (build/objects.py), so nothing is
    copied, hashed or compressed again. Precompressed siblings follow `precompress` (a
    build with another setting than the previous one gets or loses them)."""
    old_bundle = previous / "public" / BUNDLE
    bundle = release / "public" / BUNDLE
    objects = output_dir / OBJECTS
    for root, _dirs, files in os.walk(old_bundle):
        target = bundle / os.path.relpath(root, old_bundle)
        target.mkdir(parents=True, exist_ok=True)
        present = set(files)
        for name in files:
            if any(name.endswith(s) and name.removesuffix(s) in present for s in ENCODERS):
                continue  # a sibling: decided with its original, below
            source = os.path.join(root, name)
            os.link(source, target / name)
            if not (precompress and is_compressible(name, os.stat(source).st_size)):
                continue
            data = b""
            for suffix in ENCODERS:
                if f"{name}{suffix}" in present:
                    os.link(f"{source}{suffix}", target / f"{name}{suffix}")
                    continue
                # The previous build had no such sibling: made (or linked) now.
                data = data or Path(source).read_bytes()
                store_sibling(data, hashlib.sha256(data).hexdigest(),
                              str(target / f"{name}{suffix}"), objects, suffix)


def _index_mentions(bundle: Path, needle: bytes) -> bool:
    """Whether any file of the index (its chunks decompressed) contains `needle`."""
    for path in bundle.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError):
                return True  # cannot tell: assume it does
        if needle in data:
            return True
    return False


@cache
def _pagefind_version() -> str:
    try:
        return version("pagefind_bin")
    except PackageNotFoundError:
        return str(pagefind_executable())
