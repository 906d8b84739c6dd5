"""`python -m benchmarks.publish_to_online`: the time from a city admin pressing « Publier »
in the web editor to the changed page being served online — the edit form's POST over
real HTTP (checks, the commit, the push to origin, the build request), the queue's wait,
the build of the city, its atomic publication, and a GET of the page that shows the
change.

The network is the project's sample content (`content/`), made a git repository with a
bare origin in a temp dir; the service runs in this process under uvicorn on a loopback
port with its real workers, and a real SMTP server on loopback (aiosmtpd) receives the
sign-in link: the admin signs in through the magic-link flow like a person. Each round
opens the edit form of one published post, changes a sentence, posts it with
action=publish and polls the public page (every 5 ms) until it shows the new sentence;
the split comes from the build job's row: « Publier » → the build requested (the checks,
the commit, the push to origin), the wait in the queue (requested → started, which holds
AVF_BUILD_DELAY), the job's build of the city and its publication (started → finished),
and finished → the page seen (the polls and the GET). Rounds are AVF_BUILD_DELAY + 1 s apart (lone
changes, not a burst). The first publication after the service starts is reported apart.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import itertools
import re
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import uvicorn
from sqlalchemy import select

from avf.build.options import PROJECT_ROOT
from avf.service import ServiceSettings, create_app
from avf.service.accounts import find_or_create_person, grant_role
from avf.store.schema import build_jobs
from benchmarks.push_to_online import _free_port, _idle, _repositories, _wait_for

CITY = "lyon"
POST = "posts/2026-09-12-cafe-accueil.md"
SENTENCE = "Quelle matinée !"  # the sentence each round changes
ADMIN = "responsable.mesure@example.org"
LINK = re.compile(r"http://127\.0\.0\.1:\d+(/compte/lien/[A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class Round:
    total: float  # « Publier » pressed → the page shows the change
    saved: float  # → the build requested: checks, the commit, the push to origin
    queued: float  # the job waiting in the queue (AVF_BUILD_DELAY)
    build: float  # the job: the city's build and its publication
    seen: float  # job finished → the page seen by the poll


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--delay", type=float, action="append",
                        help="AVF_BUILD_DELAY values to measure (default: 0 and 3)")
    parser.add_argument("--content", type=Path, default=PROJECT_ROOT / "content")
    args = parser.parse_args()
    rows = [measure(args.content, delay, args.rounds) for delay in (args.delay or [0.0, 3.0])]
    print(f"| build delay | first « Publier » after start | median of {args.rounds} | min | max "
          "| commit + push | queue wait | build + publication | "
          "→ page seen |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(row)


def measure(content: Path, delay: float, rounds: int) -> str:
    from aiosmtpd.controller import Controller

    with tempfile.TemporaryDirectory(prefix="avf-publish-") as work:
        root = Path(work)
        _, checkout = _repositories(content, root)
        mailbox = Mailbox()
        smtp = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
        smtp.start()
        port = _free_port()
        address = f"http://127.0.0.1:{port}"
        settings = ServiceSettings.from_environ(
            checkout, root / "output", public_url=address,
            environ={"AVF_DATA_DIR": str(root / "var"), "AVF_SECRET_KEY": "mesure",
                     "AVF_BUILD_DELAY": str(delay), "AVF_BUILD_JOBS": "2",
                     "AVF_SMTP_HOST": "127.0.0.1", "AVF_SMTP_PORT": str(smtp.port)})
        app = create_app(settings)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            _wait_for(lambda: server.started, 10)
            queue = app.state.runtime.builds
            queue.request(["*"], "première construction")
            _wait_for(lambda: _idle(queue), 300)
            with queue.engine.begin() as connection:
                person_id, _ = find_or_create_person(connection, ADMIN, "Responsable Mesure")
                grant_role(connection, person_id, "admin", CITY)
            admin = Browser(address)
            admin.sign_in(ADMIN, mailbox)
            first, *timed = [_round(admin, queue, number, delay)
                             for number in range(rounds + 1)]
        finally:
            server.should_exit = True
            thread.join(10)
            smtp.stop()
    totals = [one.total for one in timed]

    def median(part: str) -> str:
        return f"{statistics.median(getattr(one, part) for one in timed):.3f} s"

    return (f"| {delay:g} s | {first.total:.2f} s | {statistics.median(totals):.2f} s | "
            f"{min(totals):.2f} s | {max(totals):.2f} s | {median('saved')} | "
            f"{median('queued')} | {median('build')} | {median('seen')} |")


def _round(admin: Browser, queue, number: int, delay: float) -> Round:  # type: ignore[no-untyped-def]
    """One « Publier » of a changed sentence, until the page shows it."""
    time.sleep(delay + 1)  # a lone change: the previous one's window is over
    edit = f"/editeur/{CITY}/texte/{POST}"
    fields = admin.form(edit, "avf-editor-form")
    new_sentence = f"Quelle matinée, la mesure n° {number} !"
    assert SENTENCE in fields["body"] or "la mesure n°" in fields["body"], fields["body"][:200]
    fields["body"] = re.sub(r"Quelle matinée(, la mesure n° \d+)? !", new_sentence,
                            fields["body"], count=1)
    fields["action"] = "publish"
    started = datetime.now(UTC)
    location = admin.post(edit, fields)
    job = int(location.split("/suivi/")[1].split("?")[0])
    url = admin.wait_json(location + "&format=json")
    while new_sentence not in admin.page(url):
        time.sleep(0.005)
    seen = datetime.now(UTC)
    _wait_for(lambda: _idle(queue), 60)
    with queue.engine.connect() as connection:
        row = connection.execute(select(build_jobs).where(build_jobs.c.id == job)).mappings().one()
    # One clock (this process's, which the service's rows use too): the parts add up.
    moments = [started, row["requested_at"], row["started_at"], row["finished_at"], seen]
    parts = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(moments)]
    return Round((seen - started).total_seconds(), *parts)


class Mailbox:
    """The SMTP server's handler: the messages received, as text."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 Message accepted for delivery"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


class Browser:
    """One person's browser over HTTP: cookies kept, `Origin` sent on POSTs, forms filled
    from the page received (their token included)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def page(self, path: str) -> str:
        try:
            with self.opener.open(self.address + path, timeout=10) as answer:
                return answer.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            if error.code in (404, 503):
                return ""
            raise

    def json(self, path: str) -> dict[str, object]:
        import json

        return json.loads(self.page(path))  # type: ignore[no-any-return]

    def wait_json(self, path: str) -> str:
        """The tracking page's link once the build is done."""
        while not (state := self.json(path)).get("finished"):
            time.sleep(0.005)
        return str(state["url"])

    def form(self, path: str, form_id: str = "") -> dict[str, str]:
        parser = FormFields(form_id)
        parser.feed(self.page(path))
        return parser.fields

    def post(self, path: str, fields: dict[str, str]) -> str:
        """POST `fields`; the address it redirects to."""
        request = urllib.request.Request(
            self.address + path, data=urllib.parse.urlencode(fields).encode(), method="POST",
            headers={"Origin": self.address,
                     "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with self.opener.open(request, timeout=30) as answer:
                raise RuntimeError(f"{path} answered {answer.status}, not a redirect")
        except urllib.error.HTTPError as error:
            if error.code != 303:
                raise RuntimeError(f"{path} answered {error.code}: "
                                   f"{error.read()[:500]!r}") from None
            return str(error.headers["Location"])

    def sign_in(self, email: str, mailbox: Mailbox) -> None:
        """The magic-link flow: the form, the mail, « Me connecter »."""
        fields = self.form("/compte/connexion")
        fields["email"] = email
        request = urllib.request.Request(
            self.address + "/compte/connexion", data=urllib.parse.urlencode(fields).encode(),
            headers={"Origin": self.address})
        self.opener.open(request, timeout=10).close()
        _wait_for(lambda: any(LINK.search(_unfolded(m)) for m in mailbox.messages), 30)
        link = next(LINK.search(_unfolded(m)) for m in mailbox.messages
                    if LINK.search(_unfolded(m))).group(1)  # type: ignore[union-attr]
        self.post(link, self.form(link))


def _unfolded(message: str) -> str:
    """A mail's text with quoted-printable soft line breaks undone."""
    return message.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")


class FormFields(HTMLParser):
    """The fields a browser sends from one form (checked boxes only; no buttons)."""

    def __init__(self, form_id: str = "") -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.fields: dict[str, str] = {}
        self._inside = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form" and (not self.form_id or found.get("id") == self.form_id):
            self._inside = True
        elif not self._inside or "name" not in found or "disabled" in found:
            return
        elif tag == "input" and (found.get("type") not in ("checkbox", "radio", "file")
                                 or "checked" in found):
            self.fields[found["name"]] = found.get("value", "")
        elif tag == "textarea":
            self._textarea = found["name"]
            self.fields[self._textarea] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False
        elif tag == "textarea":
            self._textarea = None


if __name__ == "__main__":  # build workers come from a fork server that imports this module
    main()
