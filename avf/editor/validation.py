"""The editor's checks are `avf check`'s: the whole city is validated as it would be after
the save (so a duplicate address or a link to a missing page is caught too), and each
problem of the edited file is placed next to the form field it concerns. Two rules are the
editor's own: no markup in the one-line fields (avf.editor.plain_fields), and a main photo
always comes with its description (`avf check` only warns, and only for published texts).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from avf.content.frontmatter import parse_front_matter
from avf.content.loader import NETWORK_SLUG, load_city, load_network
from avf.content.problems import ContentError, Problem
from avf.editor.paths import CityFile
from avf.editor.plain_fields import first_problem

BODY = "body"


@dataclass(frozen=True)
class FieldProblem:
    """A problem of the edited file: the form field it belongs to (or BODY, or None for the
    whole file), and the French message."""

    field: str | None
    message: str
    severity: str = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def check_document(content_dir: Path, file: CityFile, text: str | None) -> list[FieldProblem]:
    """Problems of `file` if it were saved with `text` (None: deleted): those of the file
    itself, and those its change causes elsewhere in the city (a link to it broken)."""
    candidates = {file.rel: text}
    content = (load_network(content_dir, candidates) if file.city == NETWORK_SLUG
               else load_city(content_dir, file.city, candidates))
    own = f"{content_dir.name}/{file.city}/{file.rel}"
    lines = _field_lines(text) if text is not None else {}
    body_line = lines.pop(BODY, None)
    found = []
    for problem in content.problems:
        if problem.file == own:
            found.append(FieldProblem(_field_of(problem, lines, body_line), problem.message,
                                      problem.severity))
        elif text is None and problem.severity == "error":
            found.append(FieldProblem(None, f"{_short(problem)} : {problem.message}"))
    if text is None:
        return found
    own_rules = markup_problems(text) + description_problems(text)
    if any(problem.field == "image_alt" for problem in own_rules):
        found = [problem for problem in found if not _is_missing_description(problem)]
    return found + own_rules


NO_DESCRIPTION = ("décrivez la photo en quelques mots (par exemple « Trois bénévoles servent "
                  "le café à l'accueil ») : les personnes qui ne la voient pas l'entendront "
                  "lue ; ou choisissez « Pas de photo »")


def description_problems(text: str) -> list[FieldProblem]:
    """A main photo without its description: an error in the editor, drafts included (the
    form asks for both together; a text pushed by git keeps `avf check`'s warning)."""
    try:
        fields = parse_front_matter(text, "").fields
    except ContentError:
        return []
    image, alt = fields.get("image"), fields.get("image_alt")
    if image is None or not str(image).strip() or (alt is not None and str(alt).strip()):
        return []
    return [FieldProblem("image_alt", NO_DESCRIPTION)]


def _is_missing_description(problem: FieldProblem) -> bool:
    """`avf check`'s warning about the main photo's missing description (the editor's own
    error says it next to the description's field)."""
    return (problem.field == "image" and not problem.is_error
            and "n'a pas de description" in problem.message)


# Fields the theme writes as they are (text), and those it writes inside an attribute.
TEXT_FIELDS = ("title", "author", "category", "tags", "event.place")
ATTRIBUTE_FIELDS = ("summary", "image", "image_alt")


def markup_problems(text: str) -> list[FieldProblem]:
    """The one-line fields of `text` that carry markup (avf.editor.plain_fields)."""
    try:
        fields = parse_front_matter(text, "").fields
    except ContentError:
        return []  # the build's own check says what is wrong with the header
    found = []
    for name in (*TEXT_FIELDS, *ATTRIBUTE_FIELDS):
        head, _, inner = name.partition(".")
        value = fields.get(head)
        if inner:
            value = value.get(inner) if isinstance(value, dict) else None
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        problem = first_problem(values, in_attribute=name in ATTRIBUTE_FIELDS)
        if problem:
            found.append(FieldProblem(name, problem))
    return found


def _field_lines(text: str) -> dict[str, int]:
    """The line where each top-level field starts, and where the body starts."""
    try:
        front = parse_front_matter(text, "")
    except ContentError:
        return {}
    lines = {".".join(path): line for path, line in front.key_lines.items()}
    lines[BODY] = front.body_line
    return lines


def _field_of(problem: Problem, lines: dict[str, int], body_line: int | None) -> str | None:
    if problem.line is None:
        return None
    if body_line is not None and problem.line >= body_line:
        return BODY
    at_line = [name for name, line in lines.items() if line == problem.line]
    if at_line:
        return max(at_line, key=len)  # "event.start" rather than "event"
    return None


def _short(problem: Problem) -> str:
    return problem.file.split("/", 2)[-1] if problem.file.count("/") >= 2 else problem.file
