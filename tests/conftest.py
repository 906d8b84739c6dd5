"""Shared test helpers: scratch networks written inline, and a real build of them."""

from __future__ import annotations

import contextlib
import socket
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine

from avf.build import BuildOptions, build_network
from avf.build.network import NetworkBuild
from avf.service.settings import ServiceSettings
from avf.store import connect, migrate

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CONTENT = PROJECT_ROOT / "content"
FIXED_NOW = "2026-11-28T12:00:00+01:00"
TEST_SITE_URL = "http://avf.test"

CITY_YAML = """\
name: "AVF {title}"
city: "{title}"
slug: "{slug}"
postal_code: "69001"
department: "Rhône"
department_code: "69"
region: "Auvergne-Rhône-Alpes"
email: "accueil@avf-{slug}.example.org"
lat: 45.76
lon: 4.83
address: "1 place des Terreaux, 69001 {title}"
phone: "04 78 00 00 00"
"""


def write(path: Path, text: str) -> Path:
    """Write dedented text, creating folders; return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def write_city(content: Path, slug: str, files: dict[str, str] | None = None,
               card: str | None = None) -> Path:
    """A city folder with a valid card and the given files (path relative to the city)."""
    folder = content / slug
    write(folder / "city.yaml", card if card is not None
          else CITY_YAML.format(slug=slug, title=slug.replace("-", " ").title()))
    for relative, text in (files or {}).items():
        write(folder / relative, text)
    return folder


def post(title: str, date: str = "2026-10-01", extra: str = "", body: str = "Texte.") -> str:
    """A minimal valid post; `extra` lines go in the front matter."""
    header = f'title: "{title}"\ndate: {date}\n' + textwrap.dedent(extra).strip("\n")
    return f"---\n{header.strip()}\n---\n\n{textwrap.dedent(body).strip()}\n"


def build(content: Path, output: Path, cities: tuple[str, ...] = (), jobs: int = 2,
          ) -> NetworkBuild:
    """A real build (worker processes, Pelican, publishing) with reproducible settings."""
    return build_network(BuildOptions(content_dir=content, output_dir=output, cities=cities,
                                      jobs=jobs, site_url=TEST_SITE_URL, now=FIXED_NOW))


@pytest.fixture
def network(tmp_path: Path) -> Path:
    """An empty content folder with the network's own folder, ready for cities."""
    content = tmp_path / "content"
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nLe réseau des AVF.\n')
    return content


# --- The companion service -------------------------------------------------------------

@dataclass
class SmtpCapture:
    """A real SMTP server on loopback (aiosmtpd) and what it received."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    refuse_with: str | None = None  # e.g. "450 Réessayez plus tard" to refuse every mail

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.refuse_with:
            return self.refuse_with
        self.messages.append(
            message_from_bytes(envelope.original_content, policy=email_policy.default))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpCapture]:
    from aiosmtpd.controller import Controller

    capture = SmtpCapture(host="127.0.0.1", port=free_port())
    controller = Controller(capture, hostname=capture.host, port=capture.port)
    controller.start()
    try:
        yield capture
    finally:
        controller.stop()


def service_settings(tmp_path: Path, content: Path, smtp: SmtpCapture | None = None,
                     **overrides: object) -> ServiceSettings:
    """Settings of a service whose data, output and SMTP are the test's own."""
    environ = {"AVF_DATA_DIR": str(tmp_path / "var"), "AVF_SECRET_KEY": "test-secret-key",
               "AVF_WEBHOOK_SECRET": "It's a Secret to Everybody",
               "AVF_BUILD_DELAY": "0", "AVF_BUILD_JOBS": "2"}
    if smtp is not None:
        environ.update(AVF_SMTP_HOST=smtp.host, AVF_SMTP_PORT=str(smtp.port))
    return ServiceSettings.from_environ(content, tmp_path / "output",
                                        public_url=TEST_SITE_URL, environ=environ,
                                        **overrides)


@contextlib.contextmanager
def serving(app: object, port: int | None = None) -> Iterator[int]:
    """An ASGI app under uvicorn in a thread, on a free port of loopback, for real sockets."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,  # type: ignore[arg-type]
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the service did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database of the test's own."""
    engine = connect(f"sqlite:///{tmp_path / 'data' / 'avf.sqlite3'}")
    migrate(engine)
    yield engine
    engine.dispose()
