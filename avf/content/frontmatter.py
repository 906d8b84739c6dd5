"""Split a Markdown file into its YAML front matter and body, keeping line numbers.

Line numbers matter more than anything here: a volunteer fixing a post needs to be sent to
the right line. Every key of the front matter (nested ones too) is mapped to its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from avf.content.problems import ContentError, Problem

try:  # libyaml is several times faster; the pure-Python loader gives the same result
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe YAML loader that reads every scalar as the text the volunteer wrote.

    YAML 1.1 guesses types: `14:30` becomes 870 (base 60), `0123456701` an octal number,
    `01` the number 1 and `2026-02-31` a crash without a line number. Our typed readers
    (values.py) convert each field themselves, with a French message when they cannot.
    Only an empty value (or `null`, `~`) still means "nothing".
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}

FENCE = "---"
KeyPath = tuple[str, ...]


@dataclass(frozen=True)
class FrontMatter:
    """The parsed header of a content file and where each key stands."""

    fields: dict[str, object]
    key_lines: dict[KeyPath, int]  # 1-based line of each key, nested keys as paths
    body: str
    body_line: int  # 1-based line where the body starts

    def line_of(self, *path: str) -> int:
        """Line of a key, or of its nearest parent, or of the opening fence."""
        while path:
            if path in self.key_lines:
                return self.key_lines[path]
            path = path[:-1]
        return 1


def read_text(path: Path, shown_as: str) -> str:
    """Read a file as UTF-8, or explain in French how to re-save it as UTF-8."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        guess = raw[error.start : error.start + 1].decode("cp1252", errors="replace")
        raise ContentError(
            Problem(
                shown_as,
                line,
                f"le fichier n'est pas enregistré en UTF-8 (le caractère « {guess} » est "
                "illisible) ; ouvrez-le dans votre éditeur, choisissez « Enregistrer sous… » "
                "puis l'encodage « UTF-8 », et enregistrez à nouveau",
            )
        ) from None


def parse_front_matter(text: str, shown_as: str) -> FrontMatter:
    """Parse `---` YAML `---` then Markdown; raise ContentError on a malformed header."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != FENCE:
        raise ContentError(
            Problem(
                shown_as,
                1,
                "le fichier doit commencer par une ligne « --- », suivie des informations "
                "(title, date…) puis d'une autre ligne « --- » ; ajoutez-les en haut du fichier",
            )
        )
    try:
        closing = next(i for i in range(1, len(lines)) if lines[i].rstrip() == FENCE)
    except StopIteration:
        raise ContentError(
            Problem(
                shown_as,
                1,
                "l'en-tête ouvert par « --- » à la ligne 1 n'est jamais fermé ; ajoutez une "
                "ligne « --- » après la dernière information (title, date…)",
            )
        ) from None
    header = "\n".join(lines[1:closing])
    fields, key_lines = _parse_yaml(header, first_line=2, shown_as=shown_as)
    body = "\n".join(lines[closing + 1 :])
    return FrontMatter(fields, key_lines, body, body_line=closing + 2)


def parse_yaml_file(text: str, shown_as: str) -> tuple[dict[str, object], dict[KeyPath, int]]:
    """Parse a whole YAML file (e.g. city.yaml) into fields and key lines."""
    return _parse_yaml(text, first_line=1, shown_as=shown_as)


def _parse_yaml(
    text: str, first_line: int, shown_as: str
) -> tuple[dict[str, object], dict[KeyPath, int]]:
    indented = re.search(r"^[ ]*\t", text, flags=re.MULTILINE)
    if indented:
        raise ContentError(
            Problem(
                shown_as,
                text[: indented.start()].count("\n") + first_line,
                "une tabulation sert à décaler cette ligne ; l'en-tête n'accepte que des "
                "espaces : remplacez la tabulation par deux espaces",
            )
        )
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        fields = loader.construct_document(node) if node is not None else {}
    except yaml.MarkedYAMLError as error:
        raise ContentError(_explain_yaml_error(error, text, first_line, shown_as)) from None
    finally:
        loader.dispose()
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        raise ContentError(
            Problem(
                shown_as,
                first_line,
                "l'en-tête doit être une liste d'informations « nom: valeur », une par ligne "
                "(par exemple « title: Café d'accueil »)",
            )
        )
    key_lines: dict[KeyPath, int] = {}
    _collect_key_lines(node, (), first_line, key_lines)
    return fields, key_lines


def _collect_key_lines(
    node: yaml.Node | None, prefix: KeyPath, first_line: int, out: dict[KeyPath, int]
) -> None:
    if not isinstance(node, yaml.MappingNode):
        return
    for key_node, value_node in node.value:
        path = (*prefix, str(key_node.value))
        out[path] = key_node.start_mark.line + first_line
        _collect_key_lines(value_node, path, first_line, out)


def _explain_yaml_error(error: yaml.MarkedYAMLError, text: str, first_line: int,
                        shown_as: str) -> Problem:
    """Turn PyYAML's English diagnosis into a French sentence that says how to fix it."""
    problem = error.problem or ""
    context = error.context or ""
    mark = error.problem_mark or error.context_mark
    line = (mark.line + first_line) if mark is not None else first_line
    lines = text.split("\n")
    # A flow list left open at the end has its mark one line past the text.
    source_line = lines[mark.line] if mark is not None and mark.line < len(lines) else ""
    if "quoted scalar" in context and error.context_mark is not None:
        opened = error.context_mark.line + first_line
        return Problem(
            shown_as,
            opened,
            "un guillemet est ouvert sur cette ligne mais jamais fermé ; ajoutez le "
            "guillemet fermant à la fin de la valeur",
        )
    if "mapping values are not allowed" in problem and source_line[:1] in (" ", "\t"):
        return Problem(
            shown_as,
            line,
            "cette ligne commence par des espaces alors qu'elle ne dépend d'aucune autre ; "
            "supprimez les espaces au début de la ligne",
        )
    if "did not find expected key" in problem or "expected <block end>" in problem:
        return Problem(
            shown_as,
            line,
            "une apostrophe ou un guillemet ferme la valeur trop tôt ; entourez toute la "
            'valeur de guillemets doubles, par exemple title: "L\'accueil des nouveaux", '
            "sans autre guillemet double à l'intérieur",
        )
    if "mapping values are not allowed" in problem:
        return Problem(
            shown_as,
            line,
            "la valeur contient un deux-points « : » ; mettez toute la valeur entre "
            'guillemets, par exemple title: "Sortie : le musée"',
        )
    if "could not find expected ':'" in problem or "simple key" in context:
        return Problem(
            shown_as,
            line,
            "il manque le deux-points « : » entre le nom de l'information et sa valeur "
            "(par exemple « title: Café d'accueil »)",
        )
    if "found duplicate anchor" in problem or "found undefined alias" in problem:
        return Problem(
            shown_as,
            line,
            "le caractère « * » ou « & » au début d'une valeur a un sens spécial ; mettez "
            "la valeur entre guillemets",
        )
    return Problem(
        shown_as,
        line,
        "l'en-tête est mal écrit à cette ligne ; vérifiez les espaces en début de ligne, les "
        'guillemets et les deux-points, ou mettez la valeur entre guillemets doubles ("…")',
    )
