"""The service serves OUT/public itself (the embedded default): types, caching, ETag and
304, precompressed files for big ones and gzip on the fly for small ones, folders, and
nothing that is not public — on a real build, over Starlette's TestClient and over a real
socket."""

from __future__ import annotations

import gzip
import http.client
import os
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from avf.service import create_app
from avf.service.static import SMALL_FILE, accepted_encodings
from tests.conftest import build, post, service_settings, serving, write, write_city

PHOTO = bytes(range(256)) * 800  # 200 KB standing for a photo
MEMBER_SECRET = "Réunion du bureau réservée aux adhérents"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real two-city network, built and published (city folders are release links)."""
    root = tmp_path_factory.mktemp("served")
    content = root / "content"
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nLe réseau des AVF.\n')
    lyon = write_city(content, "lyon", {
        "posts/2026-10-01-rentree.md": post("Rentrée", body="![Quai](../media/quai.jpg)"),
        "posts/2026-10-02-bureau.md": post("Bureau", extra="visibility: members",
                                           body=MEMBER_SECRET),
        "pages/adherer.md": '---\ntitle: "Adhérer"\n---\n\nVenez nous voir.\n',
    })
    (lyon / "media").mkdir()
    (lyon / "media" / "quai.jpg").write_bytes(PHOTO)
    write_city(content, "rennes", {"posts/2026-10-01-a.md": post("Rennes")})
    assert build(content, root / "output").ok
    return root


@pytest.fixture(scope="module")
def client(site: Path) -> Iterator[TestClient]:
    settings = service_settings(site, site / "content", run_workers=False)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def theme_css(client: TestClient) -> str:
    home = client.get("/lyon/").text
    start = home.index("/theme/")
    return home[start:home.index('"', start)]


def test_pages_feeds_agenda_and_media_have_their_types(client: TestClient) -> None:
    expected = {
        "/": "text/html; charset=utf-8",
        "/lyon/": "text/html; charset=utf-8",
        "/lyon/adherer/": "text/html; charset=utf-8",
        "/lyon/atom.xml": "application/atom+xml; charset=utf-8",
        "/lyon/agenda.ics": "text/calendar; charset=utf-8",
        "/lyon/media/quai.jpg": "image/jpeg",
        theme_css(client): "text/css; charset=utf-8",
    }
    for url, content_type in expected.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"] == content_type, url
        assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/lyon/media/quai.jpg").content == PHOTO


def test_a_folder_is_its_index_and_needs_its_slash(client: TestClient) -> None:
    home = client.get("/lyon/")
    assert "Rentrée" in home.text
    moved = client.get("/lyon?utm=flyer", follow_redirects=False)
    assert moved.status_code == 301
    assert moved.headers["location"] == "/lyon/?utm=flyer"
    assert client.get("/lyon/adherer", follow_redirects=False).headers["location"] == \
        "/lyon/adherer/"
    # No folder listings: a folder without index.html is not a page.
    listing = client.get("/lyon/media/")
    assert listing.status_code == 404 and "quai.jpg" not in listing.text


def test_cache_headers_follow_what_changes(client: TestClient) -> None:
    assert client.get(theme_css(client)).headers["cache-control"] == \
        "public, max-age=31536000, immutable"
    for url in ("/", "/lyon/", "/lyon/atom.xml", "/lyon/agenda.ics"):
        assert client.get(url).headers["cache-control"] == "no-cache", url
    assert client.get("/lyon/media/quai.jpg").headers["cache-control"] == \
        "public, max-age=86400"


def test_etag_and_last_modified_give_304(client: TestClient) -> None:
    page = client.get("/lyon/")
    tag, modified = page.headers["etag"], page.headers["last-modified"]
    assert tag.startswith('"') and page.headers["cache-control"] == "no-cache"

    for condition in (tag, f'"autre", {tag}', f"W/{tag}", "*"):
        again = client.get("/lyon/", headers={"If-None-Match": condition})
        assert again.status_code == 304, condition
        assert again.content == b"" and again.headers["etag"] == tag
        assert again.headers["cache-control"] == "no-cache"
    assert client.get("/lyon/", headers={"If-None-Match": '"autre"'}).status_code == 200

    assert client.get("/lyon/", headers={"If-Modified-Since": modified}).status_code == 304
    older = formatdate(time.time() - 10 * 365 * 86400, usegmt=True)
    assert client.get("/lyon/", headers={"If-Modified-Since": older}).status_code == 200
    assert client.get("/lyon/", headers={"If-Modified-Since": "hier"}).status_code == 200
    # If-None-Match decides when both are sent (RFC 9110 §13.2.2).
    both = client.get("/lyon/", headers={"If-None-Match": '"autre"',
                                          "If-Modified-Since": modified})
    assert both.status_code == 200
    # Another file has another validator.
    assert client.get("/lyon/atom.xml").headers["etag"] != tag


def test_head_gives_the_headers_without_the_body(client: TestClient) -> None:
    page = client.get("/lyon/media/quai.jpg")
    head = client.head("/lyon/media/quai.jpg")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(PHOTO))
    assert head.headers["etag"] == page.headers["etag"]


def test_a_photo_is_served_in_ranges(client: TestClient) -> None:
    part = client.get("/lyon/media/quai.jpg", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.content == PHOTO[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(PHOTO)}"
    page = client.get("/lyon/").content  # small files are read whole, ranges still work
    for accept in ("identity", "gzip, br"):  # a range is never gzipped on the fly
        part = client.get("/lyon/", headers={"Range": "bytes=0-99", "Accept-Encoding": accept})
        assert part.status_code == 206 and "content-encoding" not in part.headers
        assert part.content == page[:100]
    # A range of a precompressed file is a range of the sibling sent (as nginx does).
    script = "/lyon/pagefind/pagefind-ui.js"
    with client.stream("GET", script, headers={"Accept-Encoding": "br"}) as whole:
        sent = b"".join(whole.iter_raw())
    with client.stream("GET", script, headers={"Range": "bytes=0-99",
                                               "Accept-Encoding": "br"}) as part:
        assert part.headers["content-encoding"] == "br"
        assert b"".join(part.iter_raw()) == sent[:100]


def test_public_files_set_no_cookie_but_service_forms_do(site: Path) -> None:
    """Shared caches keep responses without cookies: only a page with a form sets one."""
    settings = service_settings(site, site / "content", run_workers=False)
    with TestClient(create_app(settings)) as fresh:  # a visitor without any cookie yet
        for url in ("/", "/lyon/", "/lyon/atom.xml", theme_css(fresh)):
            assert "set-cookie" not in fresh.get(url).headers, url
        assert "avf_csrf=" in fresh.get("/compte/connexion").headers["set-cookie"]


def test_only_get_and_head(client: TestClient) -> None:
    for method in ("POST", "PUT", "DELETE"):
        response = client.request(method, "/lyon/", headers={"Origin": "http://testserver"})
        assert response.status_code == 405, method
        assert response.headers["allow"] == "GET, HEAD"


def test_member_pages_are_never_reachable_from_the_public_files(site: Path,
                                                                client: TestClient) -> None:
    member_pages = [path for path in (site / "output" / "members" / "lyon").rglob("*.html")]
    assert any(MEMBER_SECRET in path.read_text() for path in member_pages)
    for page in member_pages:
        relative = page.relative_to(site / "output" / "members").as_posix()
        for url in (f"/membres/{relative}", f"/members/{relative}"):
            response = client.get(url, follow_redirects=False)
            assert response.status_code != 200 and MEMBER_SECRET not in response.text, url
        # The same path under the public site is the public page, never the member one.
        assert MEMBER_SECRET not in client.get(f"/{relative}").text


def test_dot_paths_and_links_out_of_the_public_sites_are_refused(site: Path,
                                                                  client: TestClient) -> None:
    output = site / "output"
    release = (output / "public" / "lyon").resolve()
    write(release / ".brouillon.html", "<p>caché</p>")
    write(site / "ailleurs" / "secret.txt", "hors du site")
    links = {"dehors": site / "ailleurs", "adherents": output / "members" / "lyon",
             "etat": output / ".state"}
    for name, target in links.items():
        (release / name).symlink_to(target)
    try:
        for url in ("/lyon/.brouillon.html", "/.releases/", "/.state/index.json",
                    "/.objects/", "/lyon/dehors/secret.txt", "/lyon/adherents/index.html",
                    "/lyon/etat/index.json", "/theme/.x", "/lyon/dehors"):
            response = client.get(url, follow_redirects=False)
            assert response.status_code == 404, url
            assert "hors du site" not in response.text and MEMBER_SECRET not in response.text
    finally:
        for name in links:
            (release / name).unlink()
        (release / ".brouillon.html").unlink()


def test_a_missing_page_is_a_french_404(tmp_path: Path) -> None:
    """The service's own page, then the portal's 404.html, then the city's."""
    settings = service_settings(tmp_path, tmp_path / "content", run_workers=False)
    public = settings.public_dir
    write(public / "lyon" / "index.html", "<p>Lyon</p>")
    write(public / "rennes" / "index.html", "<p>Rennes</p>")
    with TestClient(create_app(settings)) as client:
        service_page = client.get("/lyon/perdu.html")
        assert service_page.status_code == 404
        assert "Page introuvable" in service_page.text and '<html lang="fr"' in \
            service_page.text

        write(public / "404.html", "<h1>Le réseau ne trouve pas cette page</h1>")
        assert client.get("/lyon/perdu.html").text == \
            "<h1>Le réseau ne trouve pas cette page</h1>"

        write(public / "lyon" / "404.html", "<h1>AVF Lyon : page introuvable</h1>")
        city_page = client.get("/lyon/perdu.html")
        assert city_page.status_code == 404
        assert city_page.text == "<h1>AVF Lyon : page introuvable</h1>"
        assert city_page.headers["content-type"] == "text/html; charset=utf-8"
        assert "réseau" in client.get("/rennes/perdu.html").text
        assert "réseau" in client.get("/ailleurs").text
        assert client.head("/lyon/perdu.html").status_code == 404


def test_precompressed_files_are_chosen_by_accept_encoding(tmp_path: Path) -> None:
    settings = service_settings(tmp_path, tmp_path / "content", run_workers=False)
    page = "<p>Bienvenue à Lyon</p>" * 50
    folder = settings.public_dir / "lyon"
    write(folder / "index.html", page)
    (folder / "index.html.gz").write_bytes(gzip.compress(page.encode()))
    brotli_stand_in = b"brotli bytes: the server never decodes them"
    (folder / "index.html.br").write_bytes(brotli_stand_in)
    write(folder / "petit.html", "<p>Bienvenue</p>")  # under 1 KiB: never compressed
    (folder / "photo.png").write_bytes(bytes(range(256)) * 16)  # not text: never either

    with TestClient(create_app(settings)) as client:
        def get(accept: str, url: str = "/lyon/") -> tuple[dict[str, str], bytes]:
            with client.stream("GET", url, headers={"Accept-Encoding": accept}) as response:
                return dict(response.headers), b"".join(response.iter_raw())

        brotli, body = get("gzip, deflate, br")
        assert brotli["content-encoding"] == "br" and body == brotli_stand_in
        assert brotli["content-type"] == "text/html; charset=utf-8"
        assert brotli["vary"] == "Accept-Encoding"

        gzipped, body = get("gzip, br;q=0")
        assert gzipped["content-encoding"] == "gzip"
        assert gzip.decompress(body).decode() == page
        assert get("gzip;q=0.5, br;q=0.4")[0]["content-encoding"] == "gzip"
        assert get("*")[0]["content-encoding"] == "br"

        for refusing in ("identity", "br;q=0, gzip;q=0", "*;q=0", ""):
            original, body = get(refusing)
            assert "content-encoding" not in original and body == page.encode(), refusing
            assert original["vary"] == "Accept-Encoding"

        assert len({brotli["etag"], gzipped["etag"], original["etag"]}) == 3
        assert client.get("/lyon/", headers={"Accept-Encoding": "gzip",
                                             "If-None-Match": gzipped["etag"]}
                          ).status_code == 304

        for url in ("/lyon/petit.html", "/lyon/photo.png"):
            plain, body = get("gzip, br", url)
            assert "content-encoding" not in plain and "vary" not in plain, url
            assert body == (folder / url.removeprefix("/lyon/")).read_bytes()


def test_small_text_files_are_gzipped_on_the_fly(tmp_path: Path) -> None:
    """Without a sibling, a text file of 1 KiB up to SMALL_FILE is gzipped for a client
    that takes gzip (level 5, no timestamp: the same bytes every time), as nginx does."""
    settings = service_settings(tmp_path, tmp_path / "content", run_workers=False)
    folder = settings.public_dir / "lyon"
    page = "".join(f"<p>Permanence {n} : mardi à la mairie.</p>\n" for n in range(150))
    files = {"/lyon/": write(folder / "index.html", page),
             "/lyon/atom.xml": write(folder / "atom.xml", f"<feed>{page}</feed>"),
             "/lyon/style.css": write(folder / "style.css", "p { margin: 0; }\n" * 100),
             "/lyon/agenda.ics": write(folder / "agenda.ics", "BEGIN:VEVENT\r\n" * 100),
             "/lyon/media/plan.svg": write(folder / "media" / "plan.svg",
                                           "<svg><path d='M0 0'/></svg>" * 50)}
    big = write(folder / "annuaire.html", "<li>AVF</li>" * (SMALL_FILE // 10))
    with TestClient(create_app(settings)) as client:
        del client.headers["accept-encoding"]  # httpx's default: none unless a test says
        def get(url: str, method: str = "GET", **headers: str,
                ) -> tuple[int, dict[str, str], bytes]:
            sent = {name.replace("_", "-"): value for name, value in headers.items()}
            with client.stream(method, url, headers=sent) as response:
                return response.status_code, dict(response.headers), \
                    b"".join(response.iter_raw())

        for url, path in files.items():
            original = path.read_bytes()
            status, gzipped, body = get(url, Accept_Encoding="gzip, deflate, br")
            assert status == 200 and gzipped["content-encoding"] == "gzip", url
            assert body == gzip.compress(original, compresslevel=5, mtime=0), url
            assert gzip.decompress(body) == original and len(body) < len(original)
            assert gzipped["vary"] == "Accept-Encoding"
            assert gzipped["etag"].endswith('-gzip"')
            assert int(gzipped["content-length"]) == len(body)
            for refusing in ({}, {"Accept-Encoding": "gzip;q=0"},
                             {"Accept-Encoding": "identity"}, {"Accept-Encoding": "br"}):
                status, plain, body = get(url, **refusing)
                assert status == 200 and body == original, (url, refusing)
                assert "content-encoding" not in plain and plain["vary"] == "Accept-Encoding"
                assert plain["etag"] != gzipped["etag"]
                assert plain["content-type"] == gzipped["content-type"]

        status, gzipped, body = get("/lyon/", Accept_Encoding="gzip")
        # 304 for the client's copy of its own encoding, whichever it is.
        assert get("/lyon/", Accept_Encoding="gzip", If_None_Match=gzipped["etag"])[0] == 304
        plain_tag = get("/lyon/")[1]["etag"]
        assert get("/lyon/", If_None_Match=plain_tag)[0] == 304
        # A conditional GET that is not current gets the gzipped page.
        again = get("/lyon/", Accept_Encoding="gzip", If_None_Match=plain_tag)
        assert again[0] == 200 and again[2] == body and again[1]["etag"] == gzipped["etag"]
        # HEAD: the headers the GET would have, its length included.
        head = get("/lyon/", "HEAD", Accept_Encoding="gzip")
        assert head[0] == 200 and head[2] == b"" and head[1]["content-encoding"] == "gzip"
        assert head[1]["content-length"] == str(len(body))
        assert head[1]["etag"] == gzipped["etag"]

        # Over SMALL_FILE (a build with --no-precompress): streamed as it is.
        status, plain, body = get("/lyon/annuaire.html", Accept_Encoding="gzip")
        assert status == 200 and "content-encoding" not in plain and "vary" not in plain
        assert body == big.read_bytes()


def test_accept_encoding_weights() -> None:
    assert accepted_encodings(None) == []
    assert accepted_encodings("gzip, deflate, br, zstd") == ["br", "gzip"]
    assert accepted_encodings("br;q=0.2, gzip;q=0.9") == ["gzip", "br"]
    assert accepted_encodings("x-gzip") == ["gzip"]
    assert accepted_encodings("*;q=0.1, br;q=0") == ["gzip"]
    assert accepted_encodings("gzip;q=zéro") == []


@pytest.fixture
def served_on_socket(site: Path, tmp_path: Path) -> Iterator[int]:
    """The service under uvicorn, on a real socket."""
    settings = service_settings(site, site / "content", run_workers=False,
                                data_dir=tmp_path / "var")
    with serving(create_app(settings)) as port:
        yield port


def raw_get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """A GET whose path is sent byte for byte (no client-side normalisation of `..`)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name.replace("_", "-"), value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, \
            response.read()
    finally:
        connection.close()


def test_over_a_real_socket(served_on_socket: int, site: Path) -> None:
    port = served_on_socket
    status, headers, body = raw_get(port, "/lyon/")
    assert status == 200 and "Rentrée" in body.decode()
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert int(headers["content-length"]) == len(body)
    assert raw_get(port, "/lyon/", If_None_Match=headers["etag"])[:1] == (304,)
    assert raw_get(port, "/lyon/", If_Modified_Since=headers["last-modified"])[:1] == (304,)
    assert raw_get(port, "/lyon")[1]["location"] == "/lyon/"

    # A page (small: no sibling) gzipped on the fly; a big file sent from its siblings.
    on_disk = (site / "output" / "public" / "lyon" / "index.html").read_bytes()
    assert body == on_disk and headers["vary"] == "Accept-Encoding"  # asked without
    status, gzipped, body = raw_get(port, "/lyon/", Accept_Encoding="gzip, deflate, br")
    assert status == 200 and gzipped["content-encoding"] == "gzip"
    assert gzip.decompress(body) == on_disk and gzipped["vary"] == "Accept-Encoding"
    refused = raw_get(port, "/lyon/", Accept_Encoding="gzip;q=0")
    assert "content-encoding" not in refused[1] and refused[2] == on_disk
    script = site / "output" / "public" / "lyon" / "pagefind" / "pagefind-ui.js"
    for accept, suffix in (("gzip, deflate, br", ".br"), ("gzip", ".gz")):
        status, big, body = raw_get(port, "/lyon/pagefind/pagefind-ui.js",
                                    Accept_Encoding=accept)
        assert big["content-encoding"] == {".br": "br", ".gz": "gzip"}[suffix]
        assert body == script.with_name(script.name + suffix).read_bytes()

    head = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    head.request("HEAD", "/lyon/media/quai.jpg")
    answer = head.getresponse()
    assert answer.status == 200 and answer.read() == b""
    assert answer.getheader("content-length") == str(len(PHOTO))
    head.close()

    secret = site / "secret.txt"
    secret.write_text("hors du site")
    members_page = "members/lyon/index.html"
    for attempt in ("/../secret.txt", "/lyon/../../secret.txt", "/%2e%2e/secret.txt",
                    "/lyon/%2e%2e/%2e%2e/secret.txt", "/lyon%2f..%2f..%2fsecret.txt",
                    "/..%5csecret.txt", f"/../{members_page}", f"/lyon/../../{members_page}",
                    f"/%2e%2e/{members_page}", "//secret.txt", "/lyon/%00.html",
                    "/.releases/", "/lyon/..", "/theme/../../secret.txt"):
        status, _headers, body = raw_get(port, attempt)
        assert status in (400, 404), (attempt, status)
        assert b"hors du site" not in body and MEMBER_SECRET.encode() not in body, attempt
    assert raw_get(port, "/lyon/%00.html")[0] == 400


def test_file_identity_changes_the_etag(tmp_path: Path) -> None:
    """A republished file (a new object) gets a new ETag even at the same size."""
    settings = service_settings(tmp_path, tmp_path / "content", run_workers=False)
    page = write(settings.public_dir / "lyon" / "index.html", "<p>version A</p>")
    with TestClient(create_app(settings)) as client:
        before = client.get("/lyon/").headers["etag"]
        replacement = write(page.with_name(".next"), "<p>version B</p>")
        os.replace(replacement, page)
        after = client.get("/lyon/", headers={"If-None-Match": before})
        assert after.status_code == 200 and after.text == "<p>version B</p>"
        assert after.headers["etag"] != before
