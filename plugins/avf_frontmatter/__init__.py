"""Pelican reader for AVF Markdown files: YAML front matter validated by avf.content.

Why not pelican-yaml-metadata: it reads the header but knows nothing of our content model
(statuses, visibility, events, French errors with line numbers). Reading through
avf.content keeps one definition of valid content for `avf check`, the editor and the build.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pelican import signals
from pelican.readers import BaseReader
from pelican.urlwrappers import Author, Category, Tag

from avf.content.documents import read_document
from avf.content.model import Document
from avf.content.problems import ContentError
from avf.render.addresses import document_address
from avf.render.markdown import markdown_to_html


class AvfMarkdownReader(BaseReader):
    """Reads content/<city>/{posts,pages}/*.md into Pelican metadata and HTML."""

    enabled = True
    file_extensions: ClassVar[list[str]] = ["md", "markdown"]

    def read(self, source_path: str) -> tuple[str, dict[str, Any]]:
        # The build validated the city just before: reuse its parsed documents.
        document = self.settings.get("AVF_DOCUMENTS", {}).get(source_path)
        if document is None:
            document = _read(Path(source_path), self.settings)
        metadata = self._metadata(document)
        if metadata["status"] == "skip":
            return "", metadata
        return markdown_to_html(document.body), metadata

    def _metadata(self, doc: Document) -> dict[str, Any]:
        settings = self.settings
        # Drafts and posts awaiting review are never read further, so never written.
        status = "published" if doc.is_published else "skip"
        metadata: dict[str, Any] = {
            "title": doc.title,
            "slug": doc.slug,
            "status": status,
            "visibility": doc.visibility,
            "avf_kind": doc.kind,
            "avf_source": doc.shown_as,
        }
        if doc.date is not None:
            metadata["date"] = doc.date
        if doc.modified is not None:
            metadata["modified"] = doc.modified
        if doc.tags:
            metadata["tags"] = [Tag(tag, settings) for tag in doc.tags]
        if doc.category:
            metadata["category"] = Category(doc.category, settings)
        if doc.author:
            metadata["author"] = Author(doc.author, settings)
            metadata["authors"] = [metadata["author"]]
        if doc.summary:
            metadata["summary"] = doc.summary
        if doc.image:
            metadata["image"] = doc.image  # relative to the city folder: media/x.jpg
            metadata["image_alt"] = doc.image_alt or ""
        if doc.event is not None:
            metadata["event"] = doc.event
        if doc.order is not None:
            metadata["order"] = doc.order
        if doc.broadcast:
            metadata["broadcast"] = True
        url, save_as = document_address(doc, settings)
        if url is not None:
            # Given here, Pelican uses them as they are instead of recomputing them from
            # the settings at every use (that was a sixth of a city's build time).
            metadata["url"], metadata["save_as"] = url, save_as
        return metadata


def _read(path: Path, settings: dict[str, Any]) -> Document:
    city_dir = Path(settings["PATH"])
    relative = path.relative_to(city_dir)
    kind = "page" if relative.parts[0] == "pages" else "post"
    content_root = city_dir.parent
    shown_as = f"{content_root.name}/{city_dir.name}/{relative.as_posix()}"
    try:
        return read_document(path, city_dir, shown_as, kind,
                             network=city_dir.name.startswith("_"))
    except ContentError as error:
        # `avf build` validates every city before Pelican runs, so this is a safety net.
        raise ValueError(str(error.problem)) from None


def add_reader(readers: Any) -> None:
    for extension in AvfMarkdownReader.file_extensions:
        readers.reader_classes[extension] = AvfMarkdownReader


def register() -> None:
    signals.readers_init.connect(add_reader)
