"""Importing a city's list of members: spreadsheets as Excel and LibreOffice save them
(separators, encodings, French or English column titles), every row checked first, and
nothing imported while one row is wrong; then the import itself over HTTP, with its
invitations delivered by a real SMTP server."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from auth_helpers import SAME_SITE, add_person, browser, csrf_token, engine_of, sign_in
from conftest import SmtpCapture
from member_helpers import build_two_cities, deliver, mails_to, rows, service, submit
from sqlalchemy import insert
from starlette.applications import Starlette
from starlette.testclient import TestClient

from avf.service.member_csv import (
    MAX_ROWS,
    ListProblem,
    decode_list,
    read_member_list,
)
from avf.service.member_forms import Invitee
from avf.store.schema import former_members, login_tokens, outbox, people, profiles, roles

IMPORT = "/membres/lyon/gestion/importer"
ADMIN = "responsable@example.org"
GOOD_LIST = """\
nom;email;téléphone;centres d'intérêt
Élise Martin;elise@example.org;06 12 34 56 78;randonnée, tarot
Jean Dupont;JEAN.DUPONT@example.org;;
Zoé Bernard;zoe@example.org;;anglais
"""


# --- Reading lists ---------------------------------------------------------------------

def test_a_french_excel_list_is_read_row_by_row() -> None:
    members = read_member_list(GOOD_LIST)
    assert members.rejected == [] and members.ignored_columns == []
    assert members.rows == [
        (2, Invitee("Élise Martin", "elise@example.org", "06 12 34 56 78", "randonnée, tarot")),
        (3, Invitee("Jean Dupont", "jean.dupont@example.org")),
        (4, Invitee("Zoé Bernard", "zoe@example.org", "", "anglais")),
    ]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp1252", "utf-16"])
def test_every_encoding_a_spreadsheet_saves_in_is_understood(encoding: str) -> None:
    data = GOOD_LIST.replace("\n", "\r\n").encode(encoding)
    members = read_member_list(decode_list(data))
    assert [row.name for _, row in members.rows] == ["Élise Martin", "Jean Dupont",
                                                     "Zoé Bernard"]
    assert members.rows[0][1].interests == "randonnée, tarot"


def test_commas_tabs_english_titles_and_first_and_last_names() -> None:
    english = read_member_list('Name,E-mail,Phone,Interests\n"Martin, Élise",elise@example.org,'
                               '0612345678,"hiking, bridge"\n')
    assert english.rows == [(2, Invitee("Martin, Élise", "elise@example.org", "0612345678",
                                        "hiking, bridge"))]
    pasted = read_member_list("Prénom\tNom\tCourriel\tAdresse postale\n"
                              "Élise\tMartin\telise@example.org\t1 rue Haute\n")
    assert pasted.rows == [(2, Invitee("Élise Martin", "elise@example.org"))]
    assert pasted.ignored_columns == ["Adresse postale"]
    french = read_member_list("Adresse e-mail;Nom complet;Tél\nelise@example.org;Élise;01\n")
    assert french.rows == [(2, Invitee("Élise", "elise@example.org", "01"))]


def test_every_bad_row_is_reported_with_its_line_and_why() -> None:
    members = read_member_list(
        "nom;email\n"
        "Élise Martin;elise@example.org\n"
        "\n"
        ";;\n"  # an empty row of the sheet: skipped, not an error
        "Jean Dupont;\n"
        "Zoé Bernard;zoe@exemple\n"
        "Élise M.;ELISE@example.org\n"
        ";paul@example.org\n")
    assert [(row.line, row.cells, row.reason) for row in members.rejected] == [
        (5, ("Jean Dupont", ""), "adresse email manquante"),
        (6, ("Zoé Bernard", "zoe@exemple"), "« zoe@exemple » n'est pas une adresse email "
                                            "complète : elle doit ressembler à "
                                            "prenom.nom@exemple.fr"),
        (7, ("Élise M.", "ELISE@example.org"), "adresse déjà présente ligne 2 du fichier"),
        (8, ("", "paul@example.org"), "nom manquant"),
    ]
    assert [line for line, _ in members.rows] == [2]


def test_a_quoted_cell_over_two_lines_keeps_the_line_numbers_right() -> None:
    members = read_member_list('nom;email;centres d\'intérêt\nÉlise;elise@example.org;"marche\n'
                               'tarot"\nJean;pas-une-adresse;\n')
    assert members.rows[0][1].interests == "marche tarot"
    assert [row.line for row in members.rejected] == [4]


@pytest.mark.parametrize(("text", "problem"), [
    ("", "La liste est vide"),
    ("\n \n", "La liste est vide"),
    ("nom;email\n", "ne contient que la ligne des titres"),
    ("Élise Martin;elise@example.org\n", "une colonne « email »"),
    ("email;téléphone\nelise@example.org;01\n", "une colonne « nom »"),
])
def test_a_list_that_cannot_be_read_says_what_to_do(text: str, problem: str) -> None:
    with pytest.raises(ListProblem, match=problem):
        read_member_list(text)


def test_a_list_too_long_is_refused() -> None:
    rows_text = "".join(f"Personne {n};p{n}@example.org\n" for n in range(MAX_ROWS + 1))
    with pytest.raises(ListProblem, match="coupez-la en plusieurs fichiers"):
        read_member_list("nom;email\n" + rows_text)


# --- Importing over HTTP -----------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_two_cities(tmp_path_factory.mktemp("member-csv"))


@pytest.fixture
def app(tmp_path: Path, built: tuple[Path, Path], smtp_server: SmtpCapture,
        ) -> Iterator[Starlette]:
    with service(tmp_path, built, smtp_server) as application:
        add_person(application, ADMIN, ("admin", "lyon"), name="Rose Responsable")
        yield application


@pytest.fixture
def admin(app: Starlette) -> TestClient:
    client = browser(app)
    sign_in(client, app, ADMIN)
    return client


def upload(client: TestClient, data: bytes, pasted: str = ""):  # type: ignore[no-untyped-def]
    return submit(client, IMPORT, {"liste": pasted},
                  files={"fichier": ("adherents.csv", data, "text/csv")})


def paste(client: TestClient, text: str):  # type: ignore[no-untyped-def]
    """The textarea, sent as the browser sends this form: multipart, with an empty file."""
    return submit(client, IMPORT, {"liste": text},
                  files={"fichier": ("", b"", "application/octet-stream")})


def invitations(app: Starlette) -> list[str]:
    return sorted(row["to_address"] for row in rows(app, outbox)  # type: ignore[misc]
                  if row["kind"] == "member_invitation")


def test_a_good_list_invites_everyone_and_their_mails_arrive(
        app: Starlette, admin: TestClient, smtp_server: SmtpCapture) -> None:
    page = admin.get(IMPORT)
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    response = upload(admin, GOOD_LIST.encode("cp1252"))
    assert response.status_code == 200
    text = html.unescape(response.text)
    assert "3 adhérent·es invité·es" in text
    assert invitations(app) == ["elise@example.org", "jean.dupont@example.org",
                                "zoe@example.org"]
    lyon_members = {row["person_id"] for row in rows(app, roles)
                    if row["city"] == "lyon" and row["role"] == "member"}
    assert len(lyon_members) == 3
    assert {row["phone"] for row in rows(app, profiles)} == {"06 12 34 56 78", ""}
    assert len([row for row in rows(app, login_tokens)
                if row["next_path"] == "/membres/lyon/"]) == 3
    deliver(app, smtp_server)
    [mail] = mails_to(smtp_server, "zoe@example.org")
    assert mail["Subject"] == "AVF Lyon vous invite dans son espace adhérents"


def test_one_bad_row_and_nothing_is_imported(app: Starlette, admin: TestClient) -> None:
    bad = GOOD_LIST + "Paul Petit;paul@\n"
    response = upload(admin, bad.encode("utf-8-sig"))
    assert response.status_code == 400
    text = html.unescape(response.text)
    assert "Rien n'a été importé : 1 ligne sur 4 à corriger" in text
    assert "<td>5</td><td>Paul Petit ; paul@</td>" in text
    assert "« paul@ » n'est pas une adresse email complète" in text
    assert invitations(app) == []
    assert len(rows(app, people)) == 1 and len(rows(app, roles)) == 1


def test_a_pasted_list_with_semicolons_is_imported(app: Starlette, admin: TestClient) -> None:
    response = paste(admin, GOOD_LIST)
    assert response.status_code == 200
    assert "3 adhérent·es invité·es" in html.unescape(response.text)
    assert len(invitations(app)) == 3


def test_members_and_people_an_admin_removed_are_left_aside(
        app: Starlette, admin: TestClient) -> None:
    add_person(app, "elise@example.org", ("member", "lyon"), name="Élise Martin")
    removed = add_person(app, "zoe@example.org", name="Zoé Bernard")
    with engine_of(app).begin() as connection:
        connection.execute(insert(former_members).values(
            person_id=removed, city="lyon", reason="removed",
            left_at=datetime(2026, 3, 3, 12, tzinfo=UTC)))
    response = paste(admin, GOOD_LIST)
    assert response.status_code == 200
    text = html.unescape(response.text)
    assert "1 adhérent·e invité·e" in text and "2 lignes laissées de côté" in text
    assert "<td>2</td><td>Élise Martin</td><td>elise@example.org</td><td>déjà adhérent·e</td>" \
        in text
    assert "retiré·e de la liste le 3 mars 2026" in text
    assert invitations(app) == ["jean.dupont@example.org"]


def test_importing_the_same_list_twice_invites_nobody_twice(
        app: Starlette, admin: TestClient) -> None:
    paste(admin, GOOD_LIST)
    again = paste(admin, GOOD_LIST)
    assert "0 adhérent·e invité·e" in html.unescape(again.text)
    assert len(invitations(app)) == 3


def test_the_export_imports_back_as_the_same_members(app: Starlette, admin: TestClient) -> None:
    paste(admin, GOOD_LIST)
    exported = admin.get("/membres/lyon/gestion/adherents.csv").content
    members = read_member_list(decode_list(exported))
    assert members.rejected == []
    assert sorted(row.email for _, row in members.rows) == [
        "elise@example.org", "jean.dupont@example.org", ADMIN, "zoe@example.org"]


@pytest.mark.parametrize(("text", "problem"), [
    ("", "La liste est vide"),
    ("Élise;elise@example.org\n", "une colonne « email »"),
])
def test_an_unreadable_list_gives_the_form_back_with_what_to_do(
        app: Starlette, admin: TestClient, text: str, problem: str) -> None:
    response = paste(admin, text)
    assert response.status_code == 400
    page = html.unescape(response.text)
    assert 'role="alert"' in page and "Rien n'a été importé." in page and problem in page
    assert invitations(app) == []


def test_a_file_and_a_pasted_list_at_once_are_refused(app: Starlette, admin: TestClient) -> None:
    response = upload(admin, GOOD_LIST.encode(), pasted=GOOD_LIST)
    assert response.status_code == 400
    assert "gardez l'un ou l'autre" in html.unescape(response.text)
    assert invitations(app) == []


def test_the_upload_is_checked_like_every_form(app: Starlette, admin: TestClient) -> None:
    token = csrf_token(admin, IMPORT)
    files = {"fichier": ("adherents.csv", GOOD_LIST.encode(), "text/csv")}
    assert admin.post(IMPORT, headers=SAME_SITE, data={"csrf_token": "forged"},
                      files=files).status_code == 403
    assert admin.post(IMPORT, headers={"Origin": "https://evil.example"},
                      data={"csrf_token": token}, files=files).status_code == 403
    assert admin.post(IMPORT, headers=SAME_SITE, data={"csrf_token": token,
                                                       "liste": GOOD_LIST}).status_code == 400
    too_big = {"fichier": ("adherents.csv", b"x" * 2_000_001, "text/csv")}
    assert admin.post(IMPORT, headers=SAME_SITE, data={"csrf_token": token},
                      files=too_big).status_code == 413
    two = [("fichier", ("a.csv", b"a", "text/csv")), ("fichier", ("b.csv", b"b", "text/csv"))]
    assert admin.post(IMPORT, headers=SAME_SITE, data={"csrf_token": token},
                      files=two).status_code == 400
    assert invitations(app) == []


def test_only_the_city_s_admins_may_import(app: Starlette) -> None:
    add_person(app, "adherente@example.org", ("member", "lyon"))
    member = browser(app, ip="198.51.100.40")
    sign_in(member, app, "adherente@example.org")
    response = member.post(IMPORT, headers=SAME_SITE,
                           data={"csrf_token": csrf_token(member, "/compte/")},
                           files={"fichier": ("a.csv", GOOD_LIST.encode(), "text/csv")})
    assert response.status_code == 403
    assert invitations(app) == []


def test_an_upload_sent_without_its_length_is_cut_at_the_cap(
        app: Starlette, admin: TestClient) -> None:
    token = csrf_token(admin, IMPORT)
    boundary = "avf-test-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"fichier\"; "
            f"filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode()

    def endless() -> Iterator[bytes]:  # chunked: no Content-Length to refuse it early
        yield head
        for _ in range(100):
            yield b"x" * 64_000

    response = admin.post(IMPORT, content=endless(), headers={
        **SAME_SITE, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 413
    assert invitations(app) == []
