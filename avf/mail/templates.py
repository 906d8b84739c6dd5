"""Render a mail from its two templates: `<kind>.txt` (first line `Objet : …`, then a
blank line, then the plain-text body) and `<kind>.html` (the same message as HTML)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).with_name("templates")
SUBJECT_PREFIX = "Objet :"


class MailTemplateError(ValueError):
    """A mail template does not start with its `Objet :` line."""


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str | None


def render_mail(kind: str, context: dict[str, object]) -> RenderedMail:
    text_template = _environment(autoescape=False).get_template(f"{kind}.txt")
    head, _, body = text_template.render(context).partition("\n")
    if not head.startswith(SUBJECT_PREFIX):
        raise MailTemplateError(f"{kind}.txt must start with « {SUBJECT_PREFIX} … »")
    subject = " ".join(head[len(SUBJECT_PREFIX):].split())
    html = None
    if (TEMPLATES / f"{kind}.html").exists():
        html = _environment(autoescape=True).get_template(f"{kind}.html").render(
            context, subject=subject)
    return RenderedMail(subject=subject, text=body.strip("\n") + "\n", html=html)


@cache
def _environment(autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                              autoescape=autoescape, undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True, trim_blocks=True,
                              lstrip_blocks=True)
