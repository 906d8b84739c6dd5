"""Webmaster tasks (`invoke --list`), thin wrappers over the `avf` command and pytest."""

from __future__ import annotations

import os
import sys

from invoke import Context, task

PYTHON = sys.executable


@task(help={"city": "only this city (repeatable)", "jobs": "worker processes"},
      iterable=["city"])
def build(c: Context, city: list[str] | None = None, jobs: int = 0) -> None:
    """Build every city site and the portal into output/."""
    options = "".join(f" --city {slug}" for slug in city or [])
    options += f" --jobs {jobs}" if jobs else ""
    c.run(f"{PYTHON} -m avf.cli build{options}", pty=sys.stdout.isatty())


@task
def publish(c: Context) -> None:
    """Build with the production settings (publishconf.py)."""
    c.run(f"{PYTHON} -m avf.cli build --settings publishconf.py", pty=sys.stdout.isatty())


@task
def check(c: Context) -> None:
    """Validate the content without building."""
    c.run(f"{PYTHON} -m avf.cli check")


@task(help={"port": "HTTP port", "demo_cities": "grow the sample into N cities first"})
def serve(c: Context, port: int = 8000, demo_cities: int = 0) -> None:
    """Build the network and serve it on http://127.0.0.1:PORT/."""
    extra = f" --demo-cities {demo_cities}" if demo_cities else ""
    c.run(f"{PYTHON} -m avf.cli serve --port {port}{extra}", pty=sys.stdout.isatty())


@task
def test(c: Context) -> None:
    """Run the whole test suite."""
    c.run(f"{PYTHON} -m pytest", pty=sys.stdout.isatty())


@task
def golden(c: Context) -> None:
    """Regenerate the golden HTML of tests/golden/ after a deliberate theme change."""
    c.run(f"{PYTHON} -m pytest tests/test_golden.py", env={**os.environ, "AVF_UPDATE_GOLDEN": "1"})


@task
def lint(c: Context) -> None:
    """Lint and check formatting."""
    c.run(f"{PYTHON} -m ruff check .")
