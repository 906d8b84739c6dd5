"""A city's list of members as a spreadsheet: read one an admin imports, write one they
export. Nothing here knows HTTP or the store.

Imported lists come from Excel or LibreOffice, saved as CSV or pasted from the sheet: `;`
(French Excel), `,` or tab separators; UTF-8 with or without BOM, UTF-16 (Excel's "texte
Unicode"), else Windows-1252 (Excel's "CSV" on a French Windows). The first line names the
columns, in French or English; columns we do not know are ignored and named in the report.
Every row is checked before anything is imported: one rejected row, and nothing is (the
admin fixes the file and sends it again).

Exported lists are what French Excel opens directly: UTF-8 with a BOM, `;` separators.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from avf.service.member_forms import Invitee, check_person, tidy
from avf.service.member_roster import MemberRow
from avf.theme.filters import PARIS

MAX_ROWS = 2000  # members in one list: the largest AVF has about a thousand
SEPARATORS = (";", "\t", ",")  # in this order when a header line has as many of each
# Column names as people write them, compared without accents, case or punctuation.
COLUMNS = {
    "name": {"nom", "name", "nom complet", "full name", "nom et prenom", "nom prenom",
             "prenom nom", "prenom et nom", "adherent", "adherente", "adherent e"},
    "first_name": {"prenom", "prenoms", "first name", "given name", "firstname"},
    "last_name": {"nom de famille", "last name", "surname", "family name", "lastname"},
    "email": {"email", "e mail", "mail", "courriel", "adresse email", "adresse e mail",
              "adresse mail", "adresse courriel", "adresse electronique", "email address",
              "e mail address", "mel"},
    "phone": {"telephone", "tel", "phone", "telephone portable", "portable", "mobile",
              "numero de telephone", "phone number", "tel portable"},
    "interests": {"centres d interet", "centre d interet", "centres d interets",
                  "centre d interets", "interets", "interests", "interest"},
}
EXPORT_HEADER = ("Nom", "Email", "Téléphone", "Centres d'intérêt", "Rôle", "Adhérent·e depuis",
                 "État", "Dans l'annuaire", "Annuaire : accord du", "Nouvelles par email",
                 "Nouvelles : accord du")
# A cell starting with one of these is a formula to a spreadsheet: a name typed by a
# visitor ("=HYPERLINK(…)") must stay text when an admin opens the export.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ListProblem(ValueError):
    """The list as a whole cannot be read (no email column, too many rows…), in French."""


@dataclass(frozen=True)
class RejectedRow:
    line: int  # in the file, the header being line 1
    cells: tuple[str, ...]
    reason: str  # French


@dataclass
class MemberList:
    """An imported list, checked: rows to invite (with their line) and rejected rows."""

    rows: list[tuple[int, Invitee]] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def decode_list(data: bytes) -> str:
    """The text of an uploaded file, whatever Excel or LibreOffice saved it as."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ListProblem("Ce fichier n'a pas pu être lu : enregistrez-le au format "
                              "« CSV » depuis votre tableur, puis envoyez-le à nouveau.") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_member_list(text: str) -> MemberList:
    """Check every row of the list (`text`, header line first); ListProblem when it cannot
    be read at all."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    header_line = next((line for line in lines if line.strip()), "")
    if not header_line:
        raise ListProblem("La liste est vide : collez-la ou choisissez un fichier.")
    separator = max(SEPARATORS, key=header_line.count)  # max keeps the first of a tie
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    header, header_at = _header(reader)
    columns, ignored = _columns(header)
    result = MemberList(ignored_columns=ignored)
    seen: dict[str, int] = {}  # address -> line where it first appeared
    previous_end = header_at
    count = 0
    for cells in reader:
        line, previous_end = previous_end + 1, reader.line_num
        cleaned = tuple(tidy(cell) for cell in cells)
        if not any(cleaned):
            continue
        count += 1
        if count > MAX_ROWS:
            raise ListProblem(f"La liste compte plus de {MAX_ROWS} lignes : coupez-la en "
                              "plusieurs fichiers, puis importez-les l'un après l'autre.")
        invitee, reason = _row(cleaned, columns)
        if invitee is not None and invitee.email in seen:
            invitee, reason = None, (f"adresse déjà présente ligne {seen[invitee.email]} du "
                                     "fichier")
        if invitee is None:
            result.rejected.append(RejectedRow(line, cleaned, reason))
            continue
        seen[invitee.email] = line
        result.rows.append((line, invitee))
    if count == 0:
        raise ListProblem("La liste ne contient que la ligne des titres : ajoutez les "
                          "adhérent·es en dessous, une personne par ligne.")
    return result


def members_csv(members: Iterable[MemberRow]) -> bytes:
    """The city's members as French Excel opens them (UTF-8 with BOM, `;`, dates as
    dd/mm/yyyy in Paris time)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    for member in members:
        writer.writerow([spreadsheet_cell(value) for value in (
            member.name, member.email, member.phone, member.interests, member.role_label,
            _date(member.joined_at), member.status, _yes(member.in_directory),
            _date(member.directory_consent_at), _yes(member.news_by_email),
            _date(member.news_consent_at))])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _header(reader: Iterable[list[str]]) -> tuple[list[str], int]:
    """The first non-empty row and the line it ends on."""
    for cells in reader:
        if any(cell.strip() for cell in cells):
            return cells, reader.line_num  # type: ignore[attr-defined]
    raise ListProblem("La liste est vide : collez-la ou choisissez un fichier.")


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Which cell holds what, from the header's names; the names not understood."""
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, title in enumerate(header):
        known = _plain(title)
        kind = next((kind for kind, names in COLUMNS.items() if known in names), None)
        if kind is None or kind in columns:
            if title.strip():
                ignored.append(tidy(title))
            continue
        columns[kind] = index
    if "first_name" in columns and "name" in columns and "last_name" not in columns:
        columns["last_name"] = columns.pop("name")  # « Prénom » + « Nom »
    if "email" not in columns:
        raise ListProblem("La première ligne doit donner le titre de chaque colonne, dont une "
                          "colonne « email » (ou « courriel ») : par exemple "
                          "« nom;email;téléphone;centres d'intérêt ». Ajoutez cette ligne, "
                          "puis importez à nouveau.")
    if not {"name", "first_name", "last_name"} & columns.keys():
        raise ListProblem("La liste doit avoir une colonne « nom » (ou « prénom » et « nom ») : "
                          "ajoutez son titre sur la première ligne, puis importez à nouveau.")
    return columns, ignored


def _row(cells: tuple[str, ...], columns: dict[str, int]) -> tuple[Invitee | None, str]:
    def cell(kind: str) -> str:
        index = columns.get(kind)
        return cells[index] if index is not None and index < len(cells) else ""

    name = cell("name") or " ".join(part for part in (cell("first_name"), cell("last_name"))
                                    if part)
    return check_person(name, cell("email"), cell("phone"), cell("interests"))


def _plain(title: str) -> str:
    """« Centres d'intérêt » -> "centres d interet": no accents, case or punctuation."""
    decomposed = unicodedata.normalize("NFKD", title.strip().lower())
    letters = "".join(char if char.isalnum() else " " for char in decomposed
                      if not unicodedata.combining(char))
    return " ".join(letters.split())


def spreadsheet_cell(value: str) -> str:
    """The value, made text if a spreadsheet would take it for a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _date(moment: datetime | None) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y") if moment else ""


def _yes(flag: bool) -> str:
    return "oui" if flag else "non"
