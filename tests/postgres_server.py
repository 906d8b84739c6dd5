"""A throwaway PostgreSQL server for the tests that keep PostgreSQL possible: Debian's
PostgreSQL binaries (on the machine image), a cluster in a temporary folder, one port."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from conftest import free_port


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's binaries folder, or None."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                      key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0)
    return versions[-1].parent if versions else None


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start a cluster in a new temporary folder; yield its SQLAlchemy URL; stop and remove
    it after. initdb refuses to run as root: as root, the cluster runs as `postgres` (in a
    folder of /tmp, which that user can reach, unlike pytest's own)."""
    binaries = postgres_bin()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed")
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="avf-postgres-"))
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
        folder.chmod(0o700)
    data = folder / "data"
    port = free_port()

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, timeout=120)

    run(str(binaries / "initdb"), "-D", str(data), "-U", "avf", "--auth=trust",
        "--encoding=UTF8", "--locale=C.UTF-8")
    run(str(binaries / "pg_ctl"), "-D", str(data), "-w", "-l", str(folder / "server.log"),
        "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        yield f"postgresql+psycopg://avf@127.0.0.1:{port}/postgres"
    finally:
        run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)
