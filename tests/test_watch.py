"""`avf watch`: a changed file rebuilds its city, and the browser is told to reload."""

from __future__ import annotations

import http.client
import queue
import threading
import time
from pathlib import Path

from avf.build import BuildOptions
from avf.build.network import NetworkBuild
from avf.livereload import SCRIPT, BuildSignal
from avf.serve import make_server
from avf.watch import CODE_CHANGED, EVERYTHING, ChangeCollector, watch
from tests.conftest import FIXED_NOW, TEST_SITE_URL, post, write, write_city


def test_changes_map_to_what_they_affect(tmp_path: Path) -> None:
    content, theme = tmp_path / "content", tmp_path / "themes"
    collector = ChangeCollector(content, [theme], queue.Queue())
    assert collector.affected(content / "lyon" / "posts" / "a.md") == "lyon"
    assert collector.affected(content / "_network" / "posts" / "a.md") == EVERYTHING
    assert collector.affected(theme / "avf" / "templates" / "base.html") == CODE_CHANGED
    assert collector.affected(content / "lyon" / "posts" / ".a.md.swp") is None
    assert collector.affected(tmp_path / "elsewhere.txt") is None


def test_a_saved_post_is_rebuilt_and_online(network: Path) -> None:
    write_city(network, "lyon", {"posts/2026-10-01-a.md": post("Première version")})
    write_city(network, "rennes", {"posts/2026-10-01-b.md": post("Rennes")})
    output = network.parent / "output"
    options = BuildOptions(content_dir=network, output_dir=output, jobs=2,
                           site_url=TEST_SITE_URL, now=FIXED_NOW)
    builds: queue.Queue[NetworkBuild] = queue.Queue()
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(options, [], builds.put, stop))
    watcher.start()
    try:
        assert builds.get(timeout=60).ok  # the first, full build
        time.sleep(0.5)  # let the observer start
        write(network / "lyon" / "posts" / "2026-10-01-a.md", post("Seconde version"))
        rebuilt = builds.get(timeout=30)
        assert [result.slug for result in rebuilt.results] == ["lyon"]
        assert "Seconde version" in (output / "public" / "lyon" / "index.html").read_text()
    finally:
        stop.set()
        watcher.join(timeout=30)


def test_served_pages_reload_after_a_build(tmp_path: Path) -> None:
    public = tmp_path / "public"
    write(public / "lyon" / "index.html", "<html><body><p>Bonjour</p></body></html>")
    signal = BuildSignal()
    server = make_server(public, "127.0.0.1", 0, signal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        page = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        page.request("GET", "/lyon/")
        body = page.getresponse().read()
        assert SCRIPT in body and body.index(SCRIPT) < body.index(b"</body>")

        listing = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        listing.request("GET", "/lyon/missing-folder/")
        missing = listing.getresponse()
        assert missing.status == 404
        assert "Retour à l'accueil du réseau AVF" in missing.read().decode()
        listing.request("GET", "/lyon/nulle-part.html")  # a plain missing file
        assert "Page introuvable" in listing.getresponse().read().decode()
        (public / "lyon" / "actualites").mkdir()
        listing.request("GET", "/lyon/actualites/")
        assert listing.getresponse().status == 404  # no folder listing

        events = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        events.request("GET", "/__avf/events")
        stream = events.getresponse()
        assert stream.getheader("Content-Type") == "text/event-stream"
        threading.Timer(0.2, signal.notify).start()
        assert stream.fp.readline() == b"event: build\n"
    finally:
        signal.close()
        server.shutdown()
        server.server_close()


def test_code_changes_end_the_warm_process_and_failures_do_not(network: Path) -> None:
    write_city(network, "lyon", {"posts/2026-10-01-a.md": post("A")})
    theme = network.parent / "theme"
    theme.mkdir()
    output = network.parent / "output"
    options = BuildOptions(content_dir=network, output_dir=output, jobs=1,
                           site_url=TEST_SITE_URL, now=FIXED_NOW)
    builds: queue.Queue[NetworkBuild] = queue.Queue()
    errors: queue.Queue[Exception] = queue.Queue()
    outcome: list[str | None] = []
    stop = threading.Event()
    watcher = threading.Thread(target=lambda: outcome.append(
        watch(options, [theme], builds.put, stop, errors.put)))
    watcher.start()
    try:
        assert builds.get(timeout=60).ok
        time.sleep(0.5)
        (output / ".state").rename(output / ".state-aside")
        (output / ".state").write_text("not a folder")  # the next build will fail
        write(network / "lyon" / "posts" / "2026-10-01-a.md", post("B"))
        assert isinstance(errors.get(timeout=30), Exception)
        (output / ".state").unlink()
        write(theme / "base.html", "<html></html>")
        watcher.join(timeout=30)
        assert outcome == [CODE_CHANGED]
    finally:
        stop.set()
        watcher.join(timeout=30)
