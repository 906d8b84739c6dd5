"""A preview of one text in the real theme, before it is published: the city built as it
would be with that text online, into a folder of its own, never published.

The city's folder is laid in `<folder>/content/<city>/` (files hard-linked, or copied
across file systems; the text written as given, with its status set to published), then
built by the same worker code as a real build (`pelican_run.build_site` with
`SiteTask.preview`: no search index, no shared objects) in the calling process, which
keeps Pelican imported and the templates compiled between previews. Photos come from the
real output's image cache, so only a new photo is processed.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from avf.build.city_settings import SiteTask
from avf.build.images import CACHE_DIR
from avf.build.network import broadcast_news
from avf.build.options import DEFAULT_SETTINGS, BuildOptions
from avf.build.runner import build_in_process
from avf.content import load_city, load_network
from avf.content.frontmatter import FENCE


@dataclass(frozen=True)
class Preview:
    """A built preview: where its public and members' pages are, the candidate's page
    inside them (`members/…` or `public/…`), and the problems that stopped it."""

    public: Path | None
    members: Path | None
    page: str
    seconds: float
    errors: list[dict[str, object]]


def build_preview(content_dir: Path, output_dir: Path, city: str, rel: str, text: str,
                  folder: Path, base_url: str, theme_version: str,
                  settings_file: Path = DEFAULT_SETTINGS) -> Preview:
    """Build `city` with `rel` (posts/x.md, pages/y.md) as `text`, published, into
    `folder`; links of the pages start with `base_url` (the city's at `base_url/<city>`,
    its members' pages at `base_url/membres/<city>`)."""
    started = time.perf_counter()
    lay_city(content_dir / city, folder / "content" / city, rel, published(text))
    out = folder / "out"
    out.mkdir(parents=True, exist_ok=True)
    cache = output_dir / CACHE_DIR
    if cache.is_dir() and not (out / CACHE_DIR).exists():
        (out / CACHE_DIR).symlink_to(cache.resolve(), target_is_directory=True)
    options = BuildOptions(content_dir=content_dir, output_dir=output_dir,
                           settings_file=settings_file, site_url=base_url)
    task = SiteTask(slug=city, content_dir=(folder / "content").resolve(),
                    output_dir=out.resolve(), settings_file=settings_file.resolve(),
                    base_url=base_url, theme_version=theme_version,
                    network_news=broadcast_news(load_network(content_dir), options),
                    preview=True)
    result = build_in_process(task)
    seconds = round(time.perf_counter() - started, 3)
    if result.status != "ok" or not result.release:
        return Preview(None, None, "", seconds, result.errors)
    release = Path(result.release)
    return Preview(release / "public", release / "members",
                   _page_of(folder / "content", city, rel, release), seconds, [])


def published(text: str) -> str:
    """The text with `status:` removed from its header (published is the default)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != FENCE:
        return text
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == FENCE:
            break
        if line.startswith("status:"):
            del lines[index]
            break
    return "\n".join(lines)


def lay_city(source: Path, target: Path, rel: str, text: str) -> None:
    """The city's files under `target` (hard links where possible), `rel` replaced by
    `text`. Hidden files and links are left out, as the editor leaves them."""
    for folder, names, files in os.walk(source):
        names[:] = [name for name in names if not name.startswith(".")
                    and not (Path(folder) / name).is_symlink()]
        here = target / Path(folder).relative_to(source)
        here.mkdir(parents=True, exist_ok=True)
        for name in files:
            origin = Path(folder) / name
            if name.startswith(".") or origin.is_symlink():
                continue
            try:
                os.link(origin, here / name)
            except OSError:
                shutil.copy2(origin, here / name)
    candidate = target / rel
    if ".." in Path(rel).parts or Path(rel).is_absolute():
        raise ValueError(f"the previewed text {rel!r} is not inside its city's folder")
    candidate.parent.mkdir(parents=True, exist_ok=True)
    candidate.unlink(missing_ok=True)  # a hard link: never write through it
    candidate.write_text(text, encoding="utf-8")


def _page_of(content: Path, city: str, rel: str, release: Path) -> str:
    """The candidate's page in the release: `public/actualites/x.html`,
    `members/actualites/x.html`, `public/<slug>/index.html`…"""
    found = load_city(content, city)
    document = next((doc for doc in found.documents
                     if doc.source.resolve() == (content / city / rel).resolve()), None)
    if document is None:
        return "public/index.html"
    name = (f"actualites/{document.slug}.html" if document.kind == "post"
            else f"{document.slug}/index.html")
    for tree in ("public", "members"):
        if (release / tree / name).is_file():
            return f"{tree}/{name}"
    return "public/index.html"
