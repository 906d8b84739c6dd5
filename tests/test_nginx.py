"""The production setup for real: Debian's nginx, run unprivileged in the foreground with
the configuration `avf deploy nginx-config` renders from deploy/nginx/avf.conf, in front of
the service under uvicorn. Skipped when nginx is not installed, except in CI (`CI` set),
where it must run."""

from __future__ import annotations

import gzip
import http.client
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import brotli
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from avf.cli import main
from avf.deploy import nginx_config
from avf.service import create_app
from avf.service.members import ACCEL_PREFIX
from avf.service.static_headers import site_policy
from tests.auth_helpers import add_person, browser, sign_in
from tests.conftest import (
    CITY_YAML,
    build,
    free_port,
    post,
    service_settings,
    serving,
    write,
    write_city,
)

NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)),
    None)
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
MEMBER_SECRET = "Compte rendu du bureau, réservé aux adhérents"
ANNECY_DOMAIN = "avf-annecy.test"  # `domain:` in its city.yaml: a server of its own

MAIN_CONFIG = """\
{user}
{brotli}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    {stock}
    include {prefix}/avf.conf;
}}
"""
# What Debian's own /etc/nginx/nginx.conf sets in `http { }` before it includes
# sites-enabled/, where docs/deploy.md puts our file: ours must add to it, never repeat it
# (a directive given twice in one block fails `nginx -t`).
DEBIAN_MIME_TYPES = Path("/etc/nginx/mime.types")
DEBIAN_HTTP = "\n    ".join([
    *([f"include {DEBIAN_MIME_TYPES};"] if DEBIAN_MIME_TYPES.exists() else []),
    "default_type application/octet-stream;", "gzip on;"])


@pytest.fixture(scope="module")
def nginx_binary() -> str:
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed: .ci/run installs it before the tests")
        pytest.skip("nginx is not installed (apt-get install nginx); CI runs this test")
    return NGINX


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, nginx_binary: str) -> Path:
    """A built network (which has precompressed pages), with a city 404 added."""
    root = tmp_path_factory.mktemp("production")
    content = root / "content"
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nLe réseau des AVF.\n')
    write_city(content, "lyon", {
        "posts/2026-10-01-rentree.md": post("Rentrée"),
        "posts/2026-10-02-bureau.md": post("Bureau", extra="visibility: members",
                                           body=MEMBER_SECRET),
    })
    write_city(content, "rennes", {"posts/2026-10-01-a.md": post("Rennes")})
    write_city(content, "annecy", {"posts/2026-10-01-lac.md": post("Tour du lac")},
               card=CITY_YAML.format(slug="annecy", title="Annecy")
               + f'domain: "{ANNECY_DOMAIN}"\n')
    media = content / "lyon" / "media"
    write(media / "plan.svg", '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)'
                              "</script></svg>")
    write(media / "programme.pdf", "%PDF-1.4 stand-in")
    assert build(content, root / "output").ok
    lyon = root / "output" / "public" / "lyon"
    write(lyon / "404.html", "<h1>AVF Lyon : cette page n'existe pas</h1>")
    write(lyon / ".brouillon.html", "<p>hors du site</p>")  # an editor's leftover
    # The worst dot path: a link like those publishing swaps in, to the members' pages.
    (root / "output" / "public" / ".lien").symlink_to(root / "output" / "members" / "lyon")
    (root / "secret.txt").write_text("hors du site")
    return root


class Recorder:
    """The service app, noting every request that reaches it and its headers."""

    def __init__(self, app: Starlette):
        self.app = app
        self.requests: dict[str, dict[str, str]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.requests[scope["path"]] = {name.decode(): value.decode()
                                            for name, value in scope["headers"]}
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def service_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def nginx(site: Path, nginx_binary: str, service_port: int,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """nginx in the foreground on a free port, its upstream the (not yet started) service."""
    prefix = tmp_path_factory.mktemp("nginx")
    port = free_port()
    brotli = BROTLI_MODULE.exists()
    (prefix / "avf.conf").write_text(nginx_config(
        site / "output", f"127.0.0.1:{service_port}", ["avf.test"],
        listen=f"127.0.0.1:{port}", brotli=brotli))
    (prefix / "nginx.conf").write_text(MAIN_CONFIG.format(
        prefix=prefix,
        # As root (CI containers), workers would become `nobody`, who cannot read the
        # test's private temporary folders.
        user="user root;" if os.geteuid() == 0 else "", stock=DEBIAN_HTTP,
        brotli=f"load_module {BROTLI_MODULE};" if brotli else ""))
    command = [nginx_binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr"]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    assert "warn" not in checked.stderr, checked.stderr
    process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.PIPE,
                               text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                get(port, "/")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start: {process.communicate()[1]}")
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.communicate(timeout=20)


def get(port: int, path: str, method: str = "GET", **headers: str,
        ) -> tuple[int, dict[str, str], bytes]:
    """A request whose path is sent byte for byte; headers by lower-case name."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True,
                              skip_host="Host" in headers)
        for name, value in headers.items():
            connection.putheader(name.replace("_", "-"), value)
        connection.endheaders()
        response = connection.getresponse()
        received = {}
        for name, value in response.getheaders():
            received[name.lower()] = f"{received[name.lower()]}, {value}" \
                if name.lower() in received else value
        return response.status, received, response.read()
    finally:
        connection.close()


def test_nginx_serves_the_public_sites_from_disk(nginx: int, site: Path) -> None:
    """The service is not running: public pages still come, member pages never do."""
    status, headers, body = get(nginx, "/lyon/")
    assert status == 200 and "Rentrée" in body.decode()
    assert headers["server"] == "nginx" and "etag" in headers
    assert get(nginx, "/lyon/", If_None_Match=headers["etag"])[0] == 304
    assert get(nginx, "/lyon")[1]["location"] == "/lyon/"
    assert get(nginx, "/lyon?depuis=affiche")[1]["location"] == "/lyon/?depuis=affiche"

    # A page (small: no sibling) is gzipped on the fly; without Accept-Encoding, or
    # refusing gzip, a client gets the file's own bytes. Both answers vary.
    page = site / "output" / "public" / "lyon" / "index.html"
    assert not page.with_name("index.html.gz").exists()
    for asked in ({"Accept_Encoding": "gzip"}, {"Accept_Encoding": "br, gzip"},
                  {"Accept_Encoding": "gzip", "Via": "1.1 cdn.example"}):  # gzip_proxied
        status, gzipped, body = get(nginx, "/lyon/", **asked)
        assert status == 200 and gzipped["content-encoding"] == "gzip", asked
        assert gzipped["vary"] == "Accept-Encoding" and gzip.decompress(body) == \
            page.read_bytes()
    for asked in ({}, {"Accept_Encoding": "br;q=0, gzip;q=0"}, {"Accept_Encoding": "br"}):
        status, plain, body = get(nginx, "/lyon/", **asked)
        assert "content-encoding" not in plain and body == page.read_bytes(), asked
        assert plain["vary"] == "Accept-Encoding"
    # A big file (Pagefind's UI script) is sent from its siblings, as they are.
    script = site / "output" / "public" / "lyon" / "pagefind" / "pagefind-ui.js"
    for asked in ({"Accept_Encoding": "gzip"}, {"Accept_Encoding": "gzip", "Via": "1.1 cdn"}):
        big = get(nginx, "/lyon/pagefind/pagefind-ui.js", **asked)
        assert big[1]["content-encoding"] == "gzip" and "Accept-Encoding" in big[1]["vary"]
        assert big[2] == script.with_name("pagefind-ui.js.gz").read_bytes()  # gzip -9
    assert get(nginx, "/lyon/pagefind/pagefind-ui.js")[2] == script.read_bytes()
    if BROTLI_MODULE.exists():  # Debian's libnginx-mod-http-brotli-static
        big = get(nginx, "/lyon/pagefind/pagefind-ui.js", Accept_Encoding="br, gzip")
        assert big[1]["content-encoding"] == "br"
        assert big[2] == script.with_name("pagefind-ui.js.br").read_bytes()
        assert brotli.decompress(big[2]) == script.read_bytes()

    missing = get(nginx, "/lyon/perdu.html")
    assert missing[0] == 404 and "AVF Lyon : cette page" in missing[2].decode()
    assert missing[1]["content-security-policy"] == site_policy()  # a theme page too
    assert get(nginx, "/lyon/media/")[0] == 404  # no folder listing

    for member_path in ("/membres/lyon/", "/membres/lyon/actualites/bureau.html"):
        status, _headers, body = get(nginx, member_path)
        assert status == 502, member_path  # handed to the service, which is down
        assert MEMBER_SECRET.encode() not in body


def test_nginx_sends_the_same_types_and_cache_headers_as_the_service(
        nginx: int, site: Path, tmp_path: Path) -> None:
    settings = service_settings(site, site / "content", run_workers=False,
                                data_dir=tmp_path / "var")
    with TestClient(create_app(settings)) as service:
        home = service.get("/lyon/").text
        stylesheet = home[home.index("/theme/"):home.index('"', home.index("/theme/"))]
        for url in ("/", "/lyon/", "/lyon/atom.xml", "/lyon/agenda.ics", "/atom.xml",
                    stylesheet, "/lyon/actualites/rentree.html", "/lyon/media/plan.svg",
                    "/lyon/media/programme.pdf", "/robots.txt", "/lyon/pagefind/pagefind.js"):
            direct = service.get(url, headers={"Accept-Encoding": "identity"})
            status, headers, body = get(nginx, url)
            assert status == direct.status_code == 200, url
            assert body == direct.content, url
            for name in ("content-type", "cache-control", "x-content-type-options",
                         "referrer-policy", "x-frame-options", "content-security-policy"):
                assert headers.get(name) == direct.headers.get(name), (url, name)
            # The same files compressed, on the fly or from a sibling, and the same Vary.
            for accept in ("gzip", "br, gzip" if BROTLI_MODULE.exists() else "gzip",
                           "identity"):
                direct = service.get(url, headers={"Accept-Encoding": accept})
                headers = get(nginx, url, Accept_Encoding=accept)[1]
                for name in ("content-encoding", "vary"):
                    assert headers.get(name) == direct.headers.get(name), (url, accept, name)
        # A volunteer's SVG opened directly runs no script on the site's origin.
        assert get(nginx, "/lyon/media/plan.svg")[1]["content-security-policy"] \
            .startswith("sandbox;")
        assert "content-security-policy" not in get(nginx, "/lyon/media/programme.pdf")[1]
        assert get(nginx, stylesheet)[1]["cache-control"] == \
            "public, max-age=31536000, immutable"


def test_nginx_hands_the_service_its_paths(nginx: int, site: Path, service_port: int,
                                           tmp_path: Path) -> None:
    settings = service_settings(site, site / "content", run_workers=False,
                                data_dir=tmp_path / "var")
    app = create_app(settings)
    recorder = Recorder(app)
    with serving(recorder, service_port):
        # Sign-in is the service's page, with its form; sent uncompressed (BREACH).
        status, headers, body = get(nginx, "/compte/connexion", Accept_Encoding="gzip")
        forwarded = recorder.requests["/compte/connexion"]
        assert status == 200 and "<h1>Me connecter</h1>" in body.decode()
        assert len(body) >= 1024 and "content-encoding" not in headers
        assert 'name="email"' in body.decode()
        assert forwarded["host"] == f"127.0.0.1:{nginx}"
        assert forwarded["x-forwarded-proto"] == "http"
        assert forwarded["x-forwarded-for"] == "127.0.0.1"

        # A member page without a session: the service sends the visitor to sign in;
        # nginx never reads it from disk.
        for member_path in ("/membres/lyon/", "/membres/lyon/actualites/bureau.html"):
            status, headers, body = get(nginx, member_path)
            assert member_path in recorder.requests
            assert status == 303, member_path
            assert headers["location"].startswith("/compte/connexion?suivant=")
            assert MEMBER_SECRET.encode() not in body, member_path

        for path in ("/hooks/git", "/admin/", "/editeur/lyon/", "/contact/lyon"):
            get(nginx, path)
            assert path in recorder.requests, path

        # Public pages never reach the service; misses without a 404.html of their own do.
        recorder.requests.clear()
        assert get(nginx, "/lyon/")[0] == 200 and get(nginx, "/rennes/")[0] == 200
        assert get(nginx, "/lyon/perdu.html")[0] == 404
        assert recorder.requests == {}
        status, _headers, body = get(nginx, "/rennes/perdu.html")
        assert status == 404 and "introuvable" in body.decode().lower()

        for attempt in ("/.releases/", "/lyon/.brouillon.html", "/.lien/index.html",
                        "/../secret.txt", "/lyon/../../secret.txt", "/%2e%2e/secret.txt",
                        "/lyon/../../members/lyon/index.html", "/theme/../../secret.txt"):
            status, _headers, body = get(nginx, attempt)
            assert status in (400, 404), (attempt, status)
            assert b"hors du site" not in body and MEMBER_SECRET.encode() not in body


MEMBER_POST = "/membres/lyon/actualites/bureau.html"
# (path, method) → status for (nobody, a member of Lyon, a member of Rennes), through nginx.
# Ugly paths: nginx matches its locations on the normalized path but hands the service the
# path as sent, which the service refuses whole (404) before looking at anyone's session.
THROUGH_NGINX = [
    ((MEMBER_POST, "GET"), (303, 200, 403)),
    ((MEMBER_POST, "HEAD"), (303, 200, 403)),
    (("/membres/lyon/", "GET"), (303, 200, 403)),  # the members' home: a service page
    (("/membres/lyon/index.html", "GET"), (303, 200, 403)),
    (("/membres/lyon", "GET"), (308, 308, 308)),
    (("/membres/lyon/../rennes/index.html", "GET"), (404, 404, 404)),
    (("/membres/rennes/../lyon/actualites/bureau.html", "GET"), (404, 404, 404)),
    (("/membres/lyon/%2e%2e/rennes/index.html", "GET"), (404, 404, 404)),
    (("/membres/lyon/actualites%2fbureau.html", "GET"), (404, 404, 404)),
    (("/membres/lyon//actualites/bureau.html", "GET"), (404, 404, 404)),
    (("/membres/LYON/actualites/bureau.html", "GET"), (404, 404, 404)),
    (("/Membres/lyon/actualites/bureau.html", "GET"), (404, 404, 404)),
    (("/lyon/../membres/lyon/actualites/bureau.html", "GET"), (404, 404, 404)),
    ((f"{ACCEL_PREFIX}lyon/actualites/bureau.html", "GET"), (404, 404, 404)),
    ((f"{ACCEL_PREFIX}lyon/actualites/bureau.html", "HEAD"), (404, 404, 404)),
    ((f"{ACCEL_PREFIX}lyon/", "GET"), (404, 404, 404)),
]


def test_member_files_come_from_disk_on_the_service_s_word(
        nginx: int, site: Path, service_port: int, tmp_path: Path) -> None:
    """AVF_ACCEL_REDIRECT=1: the service checks the session and names the file; nginx
    sends it from OUT/members; its internal location is unreachable from outside."""
    settings = service_settings(site, site / "content", run_workers=False, accel_redirect=True,
                                data_dir=tmp_path / "var",
                                database_url=f"sqlite:///{tmp_path / 'avf.sqlite3'}")
    app = create_app(settings)
    cookies: dict[str, dict[str, str]] = {"": {}}
    with browser(app):  # the real sign-in flow, then the same sessions through nginx
        for email, city in (("lyonnaise@example.org", "lyon"), ("rennais@example.org", "rennes")):
            add_person(app, email, ("member", city))
            client = browser(app)
            sign_in(client, app, email)
            cookies[city] = {"Cookie": f"avf_session={client.cookies['avf_session']}"}
        # The service's own answer: no bytes, the file named for nginx.
        client = browser(app)
        client.cookies.set("avf_session", cookies["lyon"]["Cookie"].partition("=")[2])
        answer = client.get(MEMBER_POST)
        assert answer.status_code == 200 and answer.content == b""
        assert answer.headers["x-accel-redirect"] == f"{ACCEL_PREFIX}lyon/actualites/bureau.html"
    on_disk = (site / "output" / "members" / "lyon" / "actualites" / "bureau.html").read_bytes()
    with serving(app, service_port):
        status, headers, body = get(nginx, MEMBER_POST, **cookies["lyon"])
        assert status == 200 and body == on_disk
        assert headers["content-type"] == "text/html; charset=utf-8"
        assert headers["cache-control"] == "private, no-store"  # once, never cached
        assert headers["x-robots-tag"] == "noindex"
        assert headers["x-content-type-options"] == "nosniff"
        assert "x-accel-redirect" not in headers
        head = get(nginx, MEMBER_POST, method="HEAD", **cookies["lyon"])
        assert head[0] == 200 and head[2] == b""
        assert head[1]["content-length"] == str(len(on_disk))

        for (path, method), expected in THROUGH_NGINX:
            for who, status_wanted in zip(("", "lyon", "rennes"), expected, strict=True):
                status, headers, body = get(nginx, path, method=method, **cookies[who])
                assert status == status_wanted, (path, method, who, status)
                if status == 303:
                    assert headers["location"].startswith("/compte/connexion?suivant=/membres/")
                if status != 200:
                    assert MEMBER_SECRET.encode() not in body, (path, who)
                    assert b"Bureau" not in body, (path, who)


def test_the_command_prints_a_complete_configuration(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "nginx-config", "--output", str(tmp_path / "sortie"),
                 "--upstream", "127.0.0.1:8001", "--server-name", "avf.example.org",
                 "--server-name", "www.avf.example.org"]) == 0
    config = capsys.readouterr().out
    assert re.search(r"@[A-Z_]+@", config) is None  # every placeholder filled
    # The folders nginx reads: OUT/public, and OUT/members only on the service's word
    # (an internal location); never OUT itself.
    assert re.findall(r"^\s*(root|alias)\s+(\S+);", config, re.MULTILINE) == \
        [("root", str(tmp_path / "sortie" / "public")),
         ("alias", f"{tmp_path / 'sortie' / 'members'}/")]
    assert re.search(r"location /_avf_members/ \{\n\s+internal;\n\s+alias ", config)
    assert "server 127.0.0.1:8001;" in config
    assert "server_name avf.example.org www.avf.example.org;" in config
    assert "text/calendar ics;" in config and "# brotli_static" in config


@pytest.mark.parametrize("options", [
    ["--upstream", "127.0.0.1:8000; include /etc/passwd"],
    ["--server-name", "avf.example.org { }"],
    ["--output", "/srv/avf/sortie avec espace"],
])
def test_the_command_refuses_values_that_would_break_the_configuration(
        options: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    arguments = {"--output": "/srv/avf/output", "--upstream": "127.0.0.1:8000",
                 "--server-name": "avf.example.org"}
    arguments.update(zip(options[::2], options[1::2], strict=True))
    assert main(["deploy", "nginx-config", *[part for pair in arguments.items()
                                             for part in pair]]) == 2
    assert "valeur impossible dans une configuration nginx" in capsys.readouterr().err


def test_a_city_with_its_own_domain_is_served_at_that_domain_s_root(nginx: int,
                                                                   site: Path) -> None:
    host = {"Host": ANNECY_DOMAIN}
    status, headers, body = get(nginx, "/", **host)
    assert status == 200 and "Tour du lac" in body.decode()
    assert '<link rel="canonical" href="https://avf-annecy.test/">' in body.decode()
    # Its pré-accueil form posts to the network's host: the policy lets it.
    assert headers["content-security-policy"] == site_policy(("avf.test",))
    assert headers["content-security-policy"].endswith("form-action 'self' avf.test")
    assert headers["cache-control"] == "no-cache" and "x-content-type-options" in headers
    stylesheet = re.search(r'href="https://avf-annecy.test(/theme/[^"]+\.css)"', body.decode())
    assert stylesheet, "the theme is taken from the city's own domain"
    status, headers, _ = get(nginx, stylesheet[1], **host)
    assert status == 200 and "immutable" in headers["cache-control"]
    assert headers["content-type"].startswith("text/css")
    assert get(nginx, "/actualites/lac.html", **host)[0] == 200
    assert get(nginx, "/robots.txt", **host)[2].decode().endswith(
        "Sitemap: https://avf-annecy.test/sitemap.xml\n")
    assert get(nginx, "/agenda", **host)[1]["location"] == "/agenda/"
    gzipped = get(nginx, "/", Accept_Encoding="gzip", **host)[1]
    assert gzipped["content-encoding"] == "gzip"

    missing = get(nginx, "/perdu.html", **host)
    assert missing[0] == 404 and "Page introuvable" in missing[2].decode()
    assert missing[1]["content-security-policy"] == site_policy(("avf.test",))
    # Only the city lives there: not the other cities, the members' area nor dot paths.
    for path in ("/lyon/", "/membres/annecy/", "/.state/index.json", "/annecy/"):
        assert get(nginx, path, **host)[0] == 404, path
    # Its sub-path on the network's host still answers, with the same page.
    assert get(nginx, "/annecy/")[2] == body
