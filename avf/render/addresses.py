"""Where a build publishes a post or page: its URL and its file, from the settings' URL
patterns, when they need nothing but the slug (member-only texts go under the members'
area, at AVF_MEMBERS_URL: see the avf_visibility plugin).

Shared by the content reader (plugins/avf_frontmatter), which gives them to Pelican, and
the link resolver (plugins/avf_links), which writes them where a text links to another
(`published_urls`, computed once per site by the build).
"""

from __future__ import annotations

from collections.abc import Iterable
from string import Formatter
from typing import Any
from urllib.parse import urljoin

from avf.content.model import Document


def document_address(doc: Document, settings: dict[str, Any]) -> tuple[str | None, str | None]:
    """URL (relative to SITEURL) and file of `doc`, or (None, None) when the URL settings
    need more than its slug (Pelican then computes them itself)."""
    kind = "ARTICLE" if doc.kind == "post" else "PAGE"
    pattern, saved_as = settings[f"{kind}_URL"], settings[f"{kind}_SAVE_AS"]
    fields = {name for text in (pattern, saved_as) for _, name, _, _ in Formatter().parse(text)
              if name is not None}
    if fields - {"slug"}:
        if doc.is_members_only:
            raise ValueError(f"{kind}_URL must be made of {{slug}} only, for member pages")
        return None, None
    url = pattern.format(slug=doc.slug)
    if doc.is_members_only:
        url = f"{settings['AVF_MEMBERS_URL'].rstrip('/')}/{url}"
    return url, saved_as.format(slug=doc.slug)


def published_urls(documents: Iterable[Document], settings: dict[str, Any]) -> dict[str, str]:
    """The full URL of each published text, by its file's path — as Pelican writes a link
    to it (`SITEURL/` joined with its URL); empty with relative URLs, which Pelican makes
    page by page."""
    if settings.get("RELATIVE_URLS"):
        return {}
    site = str(settings["SITEURL"])
    site = site if site.endswith("/") else f"{site}/"
    urls = {}
    for doc in documents:
        if doc.is_published:
            url, _ = document_address(doc, settings)
            if url is not None:
                urls[str(doc.source)] = urljoin(site, url)
    return urls
