"""Where a published post or page is online, as the build names it: the URL patterns of
the Pelican settings file (ARTICLE_URL, PAGE_URL, NETWORK_PAGE_URL), the slug the content
reader gives the file, a city's site under `/<city>/`, the portal at the root, and
member-only texts under the members' area (`/membres/<city>/…`, plugins/avf_frontmatter).
"""

from __future__ import annotations

import runpy
from functools import cache
from pathlib import Path

from avf.content.documents import read_document
from avf.content.loader import NETWORK_SLUG
from avf.content.problems import ContentError
from avf.editor.paths import CityFile

MEMBERS_PREFIX = "/membres"


@cache
def url_patterns(settings_file: Path) -> dict[str, str]:
    """The URL patterns of the build's settings file (read once per process)."""
    names = runpy.run_path(str(settings_file))
    return {name: str(names[name]) for name in ("ARTICLE_URL", "PAGE_URL",
                                                 "NETWORK_PAGE_URL") if name in names}


def address_of(content_dir: Path, file: CityFile, text: str, settings_file: Path) -> str | None:
    """The path (from the site's root: `/lyon/actualites/galette.html`) where `text`, the
    file's committed text, is read once published; None when it cannot be named (a file
    the build would refuse)."""
    try:
        document = read_document(file.path, content_dir / file.city,
                                 f"{content_dir.name}/{file.city}/{file.rel}", file.kind,
                                 network=file.city == NETWORK_SLUG, text=text)
    except ContentError:
        return None
    patterns = url_patterns(settings_file)
    network = file.city == NETWORK_SLUG
    if file.kind == "post":
        pattern = patterns["ARTICLE_URL"]
    else:
        pattern = patterns["NETWORK_PAGE_URL" if network else "PAGE_URL"]
    url = pattern.format(slug=document.slug)
    if document.is_members_only:
        return f"{MEMBERS_PREFIX}/{url}" if network else f"{MEMBERS_PREFIX}/{file.city}/{url}"
    return f"/{url}" if network else f"/{file.city}/{url}"
