"""Full-text search: Pagefind indexes a site's public pages into its own release.

The index is written into `<release>/public/pagefind/` before the release goes online, so
it is published (and rolled back) atomically with the pages it describes, and rebuilt
exactly when the city is. Member-only pages live in `<release>/members/`, which Pagefind
is never pointed at: their text cannot reach a public index.

Pagefind comes from PyPI (`pagefind[bin]`): the wheel ships the native binary, which we
run directly, one process per site: ~0.04 s for a city of 40 indexed pages, nearly all of
it indexing (starting the binary takes ~5 ms, so one long-running Pagefind service per
worker, which its Python API offers, would save almost nothing).
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

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


def index_site(public: Path) -> None:
    """Index the HTML pages under `public` into `public/pagefind/`."""
    command = [str(pagefind_executable()), "--site", str(public), "--output-subdir", BUNDLE,
               "--force-language", LANGUAGE, "--glob", PAGES, "--silent"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SearchIndexError(f"l'index de recherche n'a pas pu être créé : {error}") from error
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
        raise SearchIndexError(f"l'index de recherche n'a pas pu être créé : {detail[0]}")
    for name in UNUSED_FILES:
        (public / BUNDLE / name).unlink(missing_ok=True)
