"""`avf users`: the first webmaster, city roles, listings; French messages and exit 2 on
usage errors. The database is the one the environment names, as for `avf serve`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from avf.cli import main
from avf.service.accounts import load_person
from avf.store import connect
from avf.store.schema import people

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AVF_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("AVF_DATABASE_URL", raising=False)
    return tmp_path / "var"


def roles_of(data_dir: Path, email: str) -> set[tuple[str, str]]:
    engine = connect(f"sqlite:///{data_dir / 'avf.sqlite3'}")
    try:
        with engine.connect() as connection:
            person_id = connection.execute(select(people.c.id)
                                           .where(people.c.email == email)).scalar()
            person = load_person(connection, person_id) if person_id else None
    finally:
        engine.dispose()
    return set(person.roles) if person else set()


def test_the_first_webmaster_from_a_real_shell(tmp_path: Path) -> None:
    environment = {**os.environ, "AVF_DATA_DIR": str(tmp_path / "var"),
                   "PYTHONPATH": str(PROJECT_ROOT)}
    environment.pop("AVF_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "avf.cli", "users", "add", "Elise@Example.org", "--role",
         "webmaster", "--name", "Élise Martin"],
        capture_output=True, text=True, env=environment, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    assert "elise@example.org (compte créé) : rôle « Webmaster national » donné." in done.stderr
    assert roles_of(tmp_path / "var", "elise@example.org") == {("", "webmaster")}


def test_city_roles_are_given_listed_and_taken_back(
        data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "add", "paul@example.org", "--role", "admin", "--city", "lyon"]) == 0
    assert main(["users", "add", "paul@example.org", "--role", "adhérent", "--city",
                 "saint-etienne", "--name", "Paul Durand"]) == 0
    assert main(["users", "add", "anne@example.org", "--role", "member", "--city", "paris"]) == 0
    assert main(["users", "add", "paul@example.org", "--role", "admin", "--city", "lyon"]) == 0
    assert "avait déjà le rôle « Responsable à lyon »" in capsys.readouterr().err
    assert roles_of(data_dir, "paul@example.org") == {("lyon", "admin"),
                                                      ("saint-etienne", "member")}

    assert main(["users", "list"]) == 0
    listed = capsys.readouterr()
    assert listed.out.splitlines() == [
        "anne@example.org — Adhérent·e à paris — jamais connecté·e",
        "paul@example.org (Paul Durand) — Responsable à lyon, Adhérent·e à saint-etienne "
        "— jamais connecté·e",
    ]
    assert "2 compte(s)." in listed.err
    assert main(["users", "list", "--city", "lyon"]) == 0
    assert capsys.readouterr().out == (
        "paul@example.org (Paul Durand) — Responsable à lyon — jamais connecté·e\n")

    assert main(["users", "remove-role", "Paul@Example.org", "--role", "admin",
                 "--city", "lyon"]) == 0
    assert "rôle « Responsable à lyon » retiré" in capsys.readouterr().err
    assert roles_of(data_dir, "paul@example.org") == {("saint-etienne", "member")}
    assert main(["users", "remove-role", "paul@example.org", "--role", "admin",
                 "--city", "lyon"]) == 1
    assert "n'avait pas le rôle" in capsys.readouterr().err
    assert main(["users", "remove-role", "nobody@example.org", "--role", "member",
                 "--city", "lyon"]) == 1
    assert "aucun compte n'a l'adresse nobody@example.org" in capsys.readouterr().err


@pytest.mark.parametrize(("arguments", "message"), [
    (["add", "paul@example.org", "--role", "admin"], "ajoutez --city SLUG"),
    (["add", "paul@example.org", "--role", "chef", "--city", "lyon"],
     "le rôle « chef » n'existe pas"),
    (["add", "paul@", "--role", "member", "--city", "lyon"],
     "n'est pas une adresse email complète"),
    (["add", "paul@example.org", "--role", "webmaster", "--city", "lyon"],
     "vaut pour tout le réseau"),
    (["add", "paul@example.org", "--role", "member", "--city", "../lyon"],
     "n'est pas le nom court d'une ville"),
    (["remove-role", "paul@example.org", "--role", "reporter"], "ajoutez --city SLUG"),
    (["list", "--city", "Lyon!"], "n'est pas le nom court d'une ville"),
    ([], "usage: avf users"),
])
def test_usage_errors_exit_2_in_french_without_touching_the_database(
        data_dir: Path, capsys: pytest.CaptureFixture[str], arguments: list[str],
        message: str) -> None:
    assert main(["users", *arguments]) == 2
    captured = capsys.readouterr()
    assert message in captured.err + captured.out
    assert not (data_dir / "avf.sqlite3").exists()


def test_a_missing_role_is_an_argparse_usage_error(data_dir: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["users", "add", "paul@example.org"])
    assert stopped.value.code == 2
