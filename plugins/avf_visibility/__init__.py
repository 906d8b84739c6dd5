"""Split member-only posts and pages away from the public site.

A `visibility: members` post is taken out of every public list before Pelican builds tags,
archives, feeds and the home page, and is written under AVF_MEMBERS_OUTPUT instead
(OUT/members/<city>/), which only the companion service serves, to signed-in members.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pelican import signals
from pelican.writers import Writer

MEMBERS_INDEX_TEMPLATE = "members_index"


def is_members_only(content: Any) -> bool:
    return getattr(content, "visibility", "public") == "members"


def split_articles(generator: Any) -> None:
    """Before taxonomies are built: keep only public articles in the public lists."""
    generator.avf_members_articles = [a for a in generator.articles if is_members_only(a)]
    generator.articles = [a for a in generator.articles if not is_members_only(a)]
    generator.context["AVF_MEMBERS_COUNT"] = len(generator.avf_members_articles)


def split_pages(generator: Any) -> None:
    """After pages are read: same split; the context shares the list, so edit it in place."""
    generator.avf_members_pages = [p for p in generator.pages if is_members_only(p)]
    generator.pages[:] = [p for p in generator.pages if not is_members_only(p)]
    generator.context["avf_members_pages"] = generator.avf_members_pages


def write_members_articles(generator: Any, writer: Any) -> None:
    articles = getattr(generator, "avf_members_articles", [])
    members_writer = _members_writer(generator)
    for article in articles:
        members_writer.write_file(
            article.save_as, generator.get_template(article.template), generator.context,
            article=article, category=getattr(article, "category", None),
            url=article.url, blog=True, members_area=True,
        )
    pages = generator.context.get("avf_members_pages", [])
    members_writer.write_file(
        "index.html", generator.get_template(MEMBERS_INDEX_TEMPLATE), generator.context,
        members_articles=articles, members_pages=pages, members_area=True,
    )


def write_members_pages(generator: Any, writer: Any) -> None:
    members_writer = _members_writer(generator)
    for page in getattr(generator, "avf_members_pages", []):
        members_writer.write_file(
            page.save_as, generator.get_template(page.template), generator.context,
            page=page, url=page.url, members_area=True,
        )


def _members_writer(generator: Any) -> Writer:
    output = Path(generator.settings["AVF_MEMBERS_OUTPUT"])
    output.mkdir(parents=True, exist_ok=True)
    return Writer(str(output), settings=generator.settings)


def register() -> None:
    signals.article_generator_pretaxonomy.connect(split_articles)
    signals.page_generator_finalized.connect(split_pages)
    signals.page_writer_finalized.connect(write_members_pages)
    signals.article_writer_finalized.connect(write_members_articles)
