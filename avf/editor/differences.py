"""What changed between two versions of a text, in a form a volunteer reads: fields compared
by name in plain French (« Titre : « A » → « B » »), the body paragraph by paragraph, then
word by word inside a changed paragraph.

The texts are volunteers' input: every character of them is escaped here, and only the
`<ins>`/`<del>` marks this module writes are HTML. Colour is never the only signal: the
marks carry visually hidden words for screen readers ("ajouté :", "supprimé :") and the
browser's underline and strikethrough. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from markupsafe import Markup, escape

from avf.content.frontmatter import parse_yaml_file
from avf.content.problems import ContentError
from avf.editor.drafts import DraftError, read_draft

ParagraphKind = Literal["same", "added", "removed", "changed", "moved"]

# Fields of posts, pages and the city card, as the form names them for people.
FIELD_LABELS = {
    "title": "Titre", "date": "Date", "modified": "Date de mise à jour", "slug": "Adresse",
    "status": "État", "visibility": "Visible par", "author": "Auteur ou autrice",
    "category": "Rubrique", "tags": "Mots-clés", "summary": "Résumé", "image": "Photo",
    "image_alt": "Description de la photo", "order": "Place dans le menu",
    "broadcast": "Diffusion au réseau", "event.start": "Début de l'événement",
    "event.end": "Fin de l'événement", "event.place": "Lieu de l'événement",
    "event.registration": "Inscriptions", "event.capacity": "Nombre de places",
    "name": "Nom de l'association", "city": "Ville", "postal_code": "Code postal",
    "postal_codes": "Codes postaux", "department": "Département",
    "department_code": "Numéro du département", "region": "Région",
    "email": "Adresse de l'équipe d'accueil", "lat": "Latitude", "lon": "Longitude",
    "address": "Adresse", "phone": "Téléphone", "tagline": "Phrase d'accueil",
    "opening_hours": "Horaires", "accent": "Couleur", "logo": "Logo", "banner": "Bannière",
    "domain": "Nom de domaine", "network_news": "Nouvelles du réseau",
    "comments_on_public_posts": "Commentaires sur les articles publics",
}
_VALUE_WORDS = {
    "status": {"draft": "Brouillon", "review": "À relire", "published": "En ligne",
               "unpublished": "Dépublié"},
    "visibility": {"public": "tout le monde", "members": "les adhérents seulement"},
}
_WORDS = re.compile(r"\w+|\s+|[^\w\s]")  # words (accents included), spaces, punctuation
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_PAIRING_RATIO = 0.4  # below this, two paragraphs are a removal and an addition


@dataclass(frozen=True)
class FieldChange:
    """One field that changed; `before`/`after` are None when the field was absent."""

    name: str
    before: str | None
    after: str | None

    @property
    def label(self) -> str:
        if self.name.startswith("social."):
            return f"Lien « {self.name.removeprefix('social.')} »"
        return FIELD_LABELS.get(self.name, self.name)

    @property
    def sentence(self) -> str:
        """« Titre : « A » → « B » », with (vide) for a missing value."""
        return f"{self.label} : {_quoted(self.before)} → {_quoted(self.after)}"


@dataclass(frozen=True)
class ParagraphChange:
    """One paragraph of the body: unchanged, added, removed, changed (its words marked)
    or moved elsewhere unchanged. `html` is escaped text with `<ins>`/`<del>` marks."""

    kind: ParagraphKind
    html: Markup
    text: str = ""  # the paragraph as written (the old one when removed)


@dataclass(frozen=True)
class Difference:
    fields: tuple[FieldChange, ...]
    paragraphs: tuple[ParagraphChange, ...]

    @property
    def changed_paragraphs(self) -> tuple[ParagraphChange, ...]:
        return tuple(paragraph for paragraph in self.paragraphs if paragraph.kind != "same")

    @property
    def unchanged_count(self) -> int:
        return sum(1 for paragraph in self.paragraphs if paragraph.kind == "same")

    @property
    def empty(self) -> bool:
        return not self.fields and not self.changed_paragraphs


def compare_documents(old: str | None, new: str | None) -> Difference:
    """A post or page: front-matter fields by name, then the Markdown body (None: the text
    did not exist). A header too broken to read is compared as plain text."""
    old_fields, old_body = _document(old)
    new_fields, new_body = _document(new)
    if old is not None and new is not None:
        # No status written means "published" (the format's default): say it that way.
        old_fields.setdefault("status", "published")
        new_fields.setdefault("status", "published")
    return Difference(compare_fields(old_fields, new_fields),
                      compare_paragraphs(old_body, new_body))


def compare_cards(old: str | None, new: str | None) -> Difference:
    """The city card (city.yaml): its fields by name; an unreadable card as plain text."""
    old_fields, old_rest = _card(old)
    new_fields, new_rest = _card(new)
    return Difference(compare_fields(old_fields, new_fields),
                      compare_paragraphs(old_rest, new_rest))


def compare_fields(old: dict[str, object], new: dict[str, object]) -> tuple[FieldChange, ...]:
    """Each field whose value differs, in the newer text's order, then the removed ones."""
    before, after = _flatten(old), _flatten(new)
    names = list(after) + [name for name in before if name not in after]
    return tuple(FieldChange(name, _shown(name, before.get(name)), _shown(name, after.get(name)))
                 for name in names if before.get(name) != after.get(name))


def compare_paragraphs(old: str, new: str) -> tuple[ParagraphChange, ...]:
    """The body paragraph by paragraph (blank lines separate them); a changed paragraph has
    its words marked; a paragraph only moved is said so, not shown removed and added."""
    before, after = _paragraphs(old), _paragraphs(new)
    changes: list[ParagraphChange] = []
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            changes += [ParagraphChange("same", escape(text), text) for text in after[j1:j2]]
        else:
            changes += _paired(before[i1:i2], after[j1:j2])
    return _with_moves(changes)


def word_diff(old: str, new: str) -> Markup:
    """`new` with the words taken out of `old` struck through and the words put in
    underlined, everything else escaped."""
    before, after = _WORDS.findall(old), _WORDS.findall(new)
    parts: list[Markup] = []
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            parts.append(escape("".join(after[j1:j2])))
            continue
        if i2 > i1:
            parts.append(deleted("".join(before[i1:i2])))
        if j2 > j1:
            parts.append(inserted("".join(after[j1:j2])))
    return Markup("").join(parts)


def inserted(text: str) -> Markup:
    return Markup('<ins><span class="visually-hidden">ajouté : </span>{}</ins>').format(text)


def deleted(text: str) -> Markup:
    return Markup('<del><span class="visually-hidden">supprimé : </span>{}</del>').format(text)


# --- Internals ------------------------------------------------------------------------

def _document(text: str | None) -> tuple[dict[str, object], str]:
    if text is None:
        return {}, ""
    try:
        draft = read_draft(text)
    except DraftError:
        return {}, text
    return dict(draft.fields), draft.body


def _card(text: str | None) -> tuple[dict[str, object], str]:
    if text is None:
        return {}, ""
    try:
        fields, _ = parse_yaml_file(text, "city.yaml")
    except ContentError:
        return {}, text
    return dict(fields), ""


def _flatten(fields: dict[str, object]) -> dict[str, object]:
    """`event: {start: …}` as `event.start`, so each part is compared by its own name."""
    flat: dict[str, object] = {}
    for name, value in fields.items():
        if isinstance(value, dict):
            flat.update({f"{name}.{part}": inner for part, inner in value.items()})
        elif value not in (None, "", []):
            flat[str(name)] = value
    return flat


def _shown(name: str, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key} : {item}" for key, item in value.items())
    text = str(value)
    return _VALUE_WORDS.get(name, {}).get(text, text)


def _quoted(value: str | None) -> str:
    return "(vide)" if value is None else f"« {value} »"


def _paragraphs(body: str) -> list[str]:
    text = body.replace("\r\n", "\n").strip()
    return [part.strip("\n") for part in _PARAGRAPH_BREAK.split(text)] if text else []


def _paired(before: list[str], after: list[str]) -> list[ParagraphChange]:
    """A replaced run: each old paragraph paired, in order, with the most alike new one
    (their words marked) when they are alike enough; the rest removed or added."""
    changes: list[ParagraphChange] = []
    start = 0  # the first new paragraph not yet shown
    for old in before:
        ratios = [(SequenceMatcher(None, old, new, autojunk=False).ratio(), index)
                  for index, new in enumerate(after[start:], start)]
        ratio, match = max(ratios, default=(0.0, -1), key=lambda pair: (pair[0], -pair[1]))
        if ratio < _PAIRING_RATIO:
            changes.append(ParagraphChange("removed", deleted(old), old))
            continue
        changes += [ParagraphChange("added", inserted(new), new) for new in after[start:match]]
        changes.append(ParagraphChange("changed", word_diff(old, after[match]), after[match]))
        start = match + 1
    changes += [ParagraphChange("added", inserted(new), new) for new in after[start:]]
    return changes


def _with_moves(changes: list[ParagraphChange]) -> tuple[ParagraphChange, ...]:
    """A paragraph removed at one place and added unchanged at another was moved: keep it
    once, where it now stands, as "moved"."""
    removed = {change.text for change in changes if change.kind == "removed"}
    moved = {change.text for change in changes
             if change.kind == "added" and change.text in removed}
    return tuple(
        ParagraphChange("moved", escape(change.text), change.text)
        if change.kind == "added" and change.text in moved else change
        for change in changes if not (change.kind == "removed" and change.text in moved))
