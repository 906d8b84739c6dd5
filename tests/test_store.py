"""The service's database: migrations create exactly the declared tables, SQLite runs in
WAL mode, and times come back aware and in UTC."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, select, text
from sqlalchemy.exc import StatementError

from avf.cli import main
from avf.store import migrate
from avf.store.engine import current_revision
from avf.store.schema import metadata, people


def test_migrations_create_exactly_the_declared_schema(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
    assert current_revision(engine) is not None


def test_migrating_twice_changes_nothing(engine) -> None:  # type: ignore[no-untyped-def]
    revision = current_revision(engine)
    migrate(engine)
    assert current_revision(engine) == revision


def test_sqlite_runs_in_wal_mode_with_foreign_keys(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_times_come_back_aware_in_utc(engine) -> None:  # type: ignore[no-untyped-def]
    paris_winter = timezone(timedelta(hours=1))
    moment = datetime(2026, 11, 28, 12, 0, tzinfo=paris_winter)
    with engine.begin() as connection:
        connection.execute(insert(people).values(email="a@example.org", created_at=moment))
        stored = connection.execute(select(people.c.created_at)).scalar_one()
    assert stored == moment
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored.hour == 11


def test_a_naive_time_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StatementError, match="naive datetime"), engine.begin() as connection:
        connection.execute(insert(people).values(email="b@example.org",
                                                 created_at=datetime(2026, 1, 1)))


def test_db_upgrade_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AVF_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("AVF_DATABASE_URL", raising=False)
    assert main(["db", "upgrade"]) == 0
    assert "Base de données à jour" in capsys.readouterr().err
    assert (tmp_path / "var" / "avf.sqlite3").exists()
    assert main(["db", "upgrade"]) == 0
