"""How each contender builds a corpus — stock Pelican, Hugo and `avf` — each run measured
as one command (its whole process tree) with `measure.py`, its output kept in a log file."""

from __future__ import annotations

import os
import re
import shutil
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.measure import Measure, measure

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
BIN = VENV_BIN if (VENV_BIN / "avf").exists() else Path(sys.executable).parent
AVF = BIN / "avf"
PELICAN = BIN / "pelican"
SITE_URL = "http://127.0.0.1:8000"
JOBS = 2
# Run "$@" with its output in $0: `exec` replaces the shell, so the tree measured is the
# command's own...
EXEC_WRAPPER = 'exec "$@" >"$0" 2>&1'
# ... or keep the shell to write the CPU time of everything the command reaped to $1.
CPU_WRAPPER = ('log=$0 times_file=$1; shift; "$@" >"$log" 2>&1; rc=$?; '
               'times >"$times_file"; exit $rc')
ADDED_SENTENCE = "\nUne phrase ajoutée pour mesurer une reconstruction (modification {n}).\n"

# Stock Pelican: default theme and settings, only what a city's layout requires.
STOCK_SETTINGS = """\
SITENAME = "AVF"
SITEURL = "{site_url}"
TIMEZONE = "Europe/Paris"
ARTICLE_PATHS = ["posts"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["media"]
"""
STOCK_CACHE_SETTINGS = """\
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "{cache}"
"""
# One stock Pelican process per site, in a row, as a network of independent sites is built.
STOCK_DRIVER = """\
#!/usr/bin/env bash
# usage: stock-network.sh PELICAN CORPUS OUT SETTINGS SITE_URL
set -u
pelican=$1 corpus=$2 out=$3 settings=$4 site_url=$5
status=0
for site in "$corpus"/*/; do
  slug=$(basename "$site")
  "$pelican" "$site" -o "$out/$slug" -s "$settings" -e "SITEURL=\\"$site_url/$slug\\"" \\
    || { echo "FAILED: $slug" >&2; status=1; }
done
exit $status
"""

HUGO_CONFIG = """\
baseURL = "{site_url}/"
title = "AVF"
languageCode = "fr"
contentDir = "{content}"
buildFuture = true
buildExpired = true
"""
HUGO_LAYOUTS = {
    "_default/baseof.html": """\
<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{{ .Title }} – {{ .Site.Title }}</title></head>
<body><header><a href="{{ "/" | relURL }}">{{ .Site.Title }}</a></header>
<main>{{ block "main" . }}{{ end }}</main></body></html>
""",
    "_default/list.html": """\
{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}
<ul>{{ range .Paginator.Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a>
<time>{{ .Date.Format "2006-01-02" }}</time> {{ .Summary }}</li>{{ end }}</ul>
{{ template "_internal/pagination.html" . }}{{ end }}
""",
    "_default/single.html": """\
{{ define "main" }}<article><h1>{{ .Title }}</h1><time>{{ .Date.Format "2006-01-02" }}</time>
{{ with .Params.tags }}<ul>{{ range . }}<li><a href="{{ "tags/" | relURL }}{{ . | urlize }}/">
{{ . }}</a></li>{{ end }}</ul>{{ end }}
{{ .Content }}</article>{{ end }}
""",
    "index.html": """\
{{ define "main" }}<h1>{{ .Site.Title }}</h1>
<ul>{{ range .Sections }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a>
({{ len .RegularPagesRecursive }})</li>{{ end }}</ul>{{ end }}
""",
}


@dataclass(frozen=True)
class Size:
    """Size of a folder as `du` reports it, each hard-linked file counted once."""

    apparent: int  # bytes, like `du -sb`
    disk_kib: int  # KiB allocated, like `du -sk`

    @property
    def apparent_mb(self) -> float:
        return self.apparent / 1e6

    @property
    def disk_mb(self) -> float:
        return self.disk_kib * 1024 / 1e6


def logged(command: Sequence[str | Path], log: Path, cwd: Path | None = None,
           reaps_children: bool = False) -> Measure:
    """Measure a command with its stdout and stderr kept in `log`, to explain a failure.

    measure.py adds its samples of every descendant to the command's own rusage, which
    already holds the descendants the command reaped: for a command that runs and waits
    for other processes (`reaps_children`), that counts them twice, so its CPU time is
    taken from the shell's `times` instead. avf's workers are forked by a fork server that
    the command never reaps, so for avf (and single processes) the samples are right.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    args = [str(part) for part in command]
    if not reaps_children:
        return measure(["bash", "-c", EXEC_WRAPPER, str(log), *args], cwd=cwd,
                       env=dict(os.environ))
    times = log.with_suffix(".times")
    measured = measure(["bash", "-c", CPU_WRAPPER, str(log), str(times), *args], cwd=cwd,
                       env=dict(os.environ))
    cpu = _children_cpu(times)
    return measured if cpu is None else replace(measured, cpu=cpu)


def _children_cpu(times: Path) -> float | None:
    """Seconds of user + system time from the second line of bash's `times` output."""
    try:
        lines = times.read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    if len(lines) < 2:
        return None
    return sum(int(minutes) * 60 + float(seconds)
               for minutes, seconds in re.findall(r"(\d+)m([\d.]+)s", lines[1]))


# --- stock Pelican --------------------------------------------------------------------------


def write_stock_settings(path: Path, cache: Path | None = None) -> Path:
    """A minimal settings file for stock Pelican (content cache on when `cache` is given)."""
    text = STOCK_SETTINGS.format(site_url=SITE_URL)
    if cache is not None:
        text += STOCK_CACHE_SETTINGS.format(cache=cache)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def stock_network(corpus: Path, out: Path, settings: Path, log: Path) -> Measure:
    """Stock Pelican once per site of the corpus (every city, then the portal), in a row."""
    driver = out.parent / "stock-network.sh"
    driver.write_text(STOCK_DRIVER, encoding="utf-8")
    driver.chmod(driver.stat().st_mode | stat.S_IXUSR)
    return logged([driver, PELICAN, corpus, out, settings, SITE_URL], log, reaps_children=True)


def stock_city(site: Path, out: Path, settings: Path, log: Path) -> Measure:
    """Stock Pelican on one city folder."""
    url = f"{SITE_URL}/{site.name}"
    return logged([PELICAN, site, "-o", out, "-s", settings, "-e", f'SITEURL="{url}"'], log)


def stock_cached_one_post(site: Path, scratch: Path, log: Path) -> tuple[Measure, Measure]:
    """Stock Pelican with its content cache: a first build, then one with one post changed."""
    shutil.rmtree(scratch, ignore_errors=True)
    copy = scratch / "content" / site.name
    shutil.copytree(site, copy)
    settings = write_stock_settings(scratch / "cached-settings.py", cache=scratch / "cache")
    out = scratch / "out"
    first = stock_city(copy, out, settings, log.with_suffix(".first.log"))
    change_one_post(copy, 1)
    return first, stock_city(copy, out, settings, log)


# --- Hugo -----------------------------------------------------------------------------------


def hugo_path() -> str | None:
    """The `hugo` executable, when installed."""
    return shutil.which("hugo")


def write_hugo_project(project: Path, content: Path) -> Path:
    """A minimal Hugo site whose content dir is `content` (each city a section)."""
    shutil.rmtree(project, ignore_errors=True)
    config = HUGO_CONFIG.format(site_url=SITE_URL, content=content.resolve().as_posix())
    project.mkdir(parents=True)
    (project / "config.toml").write_text(config, encoding="utf-8")
    for name, text in HUGO_LAYOUTS.items():
        path = project / "layouts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return project


def hugo_build(project: Path, out: Path, log: Path) -> Measure:
    """`hugo --quiet -d OUT` in the project folder."""
    return logged([hugo_path() or "hugo", "--quiet", "-d", out.resolve()], log, cwd=project)


def count_html(out: Path) -> int:
    """How many HTML pages a build wrote under `out` (following avf's release links)."""
    return sum(1 for _, _, files in os.walk(out, followlinks=True)
               for name in files if name.endswith(".html"))


# --- avf ------------------------------------------------------------------------------------


# What stock Pelican and Hugo do not do either: for like-for-like rows.
AVF_BARE = ("--no-search", "--no-precompress")


def avf_build(content: Path, out: Path, log: Path, cities: Sequence[str] = (),
              settings: Path | None = None, extras: Sequence[str] = ()) -> Measure:
    """`avf build` of the whole corpus, or of some cities, with two jobs."""
    command: list[str | Path] = [AVF, "build", "--content", content, "--output", out,
                                 "--jobs", str(JOBS), *extras]
    for slug in cities:
        command += ["--city", slug]
    if settings is not None:
        command += ["--settings", settings]
    return logged(command, log)


def avf_check(content: Path, log: Path) -> Measure:
    """`avf check`: validation alone, the corpus must give no error."""
    return logged([AVF, "check", "--content", content], log)


def theme_change_settings(path: Path, pagination: int = 11) -> Path:
    """pelicanconf.py with one setting added (a page size for lists): every city's
    fingerprint changes, and its list pages with it, as a theme edit does."""
    text = (PROJECT_ROOT / "pelicanconf.py").read_text(encoding="utf-8")
    text, found = re.subn(r"^ROOT = .*$", f"ROOT = Path({str(PROJECT_ROOT)!r})", text,
                          count=1, flags=re.MULTILINE)
    if not found:
        raise RuntimeError("pelicanconf.py no longer defines ROOT; update benchmarks")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + f"\nDEFAULT_PAGINATION = {pagination}  # benchmark: a theme-wide "
                    "change\n", encoding="utf-8")
    return path


def change_one_post(city: Path, n: int) -> Path:
    """Append a sentence to the city's middle post, as a volunteer's small edit."""
    posts = sorted((city / "posts").glob("*.md"))
    post = posts[len(posts) // 2]
    with post.open("a", encoding="utf-8") as stream:
        stream.write(ADDED_SENTENCE.format(n=n))
    return post


# --- output size ----------------------------------------------------------------------------


def tree_size(root: Path) -> Size:
    """Apparent and allocated size of a folder, hard links counted once, links not followed."""
    seen: set[tuple[int, int]] = set()
    apparent = blocks = 0
    for folder, dirs, files in os.walk(root):
        for name in [".", *dirs, *files]:
            info = os.lstat(os.path.join(folder, name))
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            apparent += info.st_size
            blocks += info.st_blocks
    return Size(apparent, blocks * 512 // 1024)
