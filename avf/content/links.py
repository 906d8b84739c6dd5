"""Find the relative links and images a volunteer wrote in Markdown, with their lines.

People write `[adhérer](../pages/adherer.md)` and `![photo](../media/x.jpg)` as in any
Markdown editor; the build turns them into the built URLs, and validation checks that each
one names a file that exists in the same city.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

# ](target) or ](<target> "title"); ![alt](target) shares the same tail.
_INLINE = re.compile(r"(!?)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+[\"'(].*)?$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
# ![](target) or ![][reference]: an image with nothing between the brackets.
_IMAGE_WITHOUT_ALT = re.compile(r"!\[\s*\](?:\(\s*<?(?P<target>[^)\s>]*)|\[(?P<ref>[^\]]*)\])")
_HTML_IMAGE_WITHOUT_ALT = re.compile(
    r"<img\b(?![^>]*\balt\s*=)[^>]*?\bsrc\s*=\s*[\"']?(?P<target>[^\"'\s>]*)[^>]*>",
    re.IGNORECASE)


@dataclass(frozen=True)
class Link:
    """A relative link in a body: the text written, its line, and the path it names."""

    target: str  # as written, e.g. ../pages/adherer.md#tarifs
    path: str  # the file part, unquoted: ../pages/adherer.md
    line: int
    is_image: bool


def relative_links(body: str, first_line: int) -> list[Link]:
    """Every link or image in `body` that points to a file by a relative path."""
    links: list[Link] = []
    for line, text in _prose_lines(body, first_line):
        if "[" not in text:
            continue
        for match in _INLINE.finditer(text):
            _keep(links, match.group(2), line, is_image=match.group(1) == "!")
        reference = _REFERENCE.match(text)
        if reference:
            _keep(links, reference.group(1), line, is_image=False)
    return links


def images_without_alt(body: str, first_line: int) -> list[tuple[str, int]]:
    """Images of `body` that describe nothing to a reader who cannot see them: `![](x)`,
    or an HTML `<img>` with no `alt` (an explicit `alt=""` marks a decorative image)."""
    found: list[tuple[str, int]] = []
    for line, text in _prose_lines(body, first_line):
        if "![" in text:
            found += [(match.group("target") or match.group("ref") or "", line)
                      for match in _IMAGE_WITHOUT_ALT.finditer(text)]
        if "<img" in text.lower():
            found += [(match.group("target"), line)
                      for match in _HTML_IMAGE_WITHOUT_ALT.finditer(text)]
    return found


def _prose_lines(body: str, first_line: int) -> list[tuple[int, str]]:
    """The body's lines outside fenced code blocks, with their line numbers in the file."""
    lines: list[tuple[int, str]] = []
    in_fence = False
    for offset, text in enumerate(body.split("\n")):
        if ("`" in text or "~" in text) and _FENCE.match(text):
            in_fence = not in_fence
            continue
        if not in_fence:  # indented lines are read too: in a nested list they are not code
            lines.append((first_line + offset, text))
    return lines


def is_relative_file_link(target: str) -> bool:
    """True for `../media/x.jpg`, false for URLs, anchors, absolute paths and mailto."""
    return not (
        not target
        or target.startswith(("#", "/", "{", "?"))
        or _SCHEME.match(target)
    )


def _keep(links: list[Link], target: str, line: int, is_image: bool) -> None:
    if not is_relative_file_link(target):
        return
    path = unquote(target.split("#", 1)[0].split("?", 1)[0])
    if path:
        links.append(Link(target, path, line, is_image))
