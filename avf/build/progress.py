"""What the webmaster sees while the network builds: a progress bar on a terminal, plain
lines otherwise (CI logs, cron mails), and a French summary at the end."""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from avf.build.report import CityResult


class BuildProgress:
    """Feeds build events to a rich progress bar (terminal) or to plain lines."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.console = Console(file=self.stream)
        self.interactive = self.console.is_terminal
        self._progress: Progress | None = None
        self._task = None

    def plan(self, total: int) -> None:
        if self.interactive:
            self._progress = Progress(
                TextColumn("[bold]Construction"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.description}"), TimeElapsedColumn(), console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("", total=total)

    def result(self, result: CityResult) -> None:
        line = describe(result)
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, description=result.slug)
            if result.status != "ok":
                self._progress.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def describe(result: CityResult) -> str:
    name = "portail" if result.slug == "_network" else result.slug
    if result.status == "ok":
        return f"{name} : ok ({result.pages} pages, {result.seconds:.2f} s)"
    first = result.errors[0] if result.errors else {"message": "échec"}
    where = first.get("file", name)
    if first.get("line"):
        where = f"{where}, ligne {first['line']}"
    more = f" (+{len(result.errors) - 1} autres)" if len(result.errors) > 1 else ""
    return f"{name} : ÉCHEC — {where} : {first['message']}{more}"


def summary(results: list[CityResult], portal: CityResult | None, seconds: float,
            unchanged: int = 0) -> str:
    """The closing lines: cities, pages, seconds, failures with file and line."""
    built = [result for result in results if result.status == "ok"]
    failed = [result for result in results if result.status != "ok"]
    pages = sum(result.pages for result in built) + (portal.pages if portal else 0)
    lines = [f"{len(built)} ville(s) construite(s) sur {len(results)}, {pages} pages, "
             f"{seconds:.1f} s."]
    if unchanged:
        lines.append(f"{unchanged} ville(s) déjà à jour, non reconstruite(s).")
    lines.append("Portail national : " + ("à jour." if portal is None else
                                           "ok." if portal.status == "ok" else "ÉCHEC."))
    if failed or (portal and portal.status != "ok"):
        lines.append("En échec (la version précédente reste en ligne) :")
        for result in [*failed, *([portal] if portal and portal.status != "ok" else [])]:
            for error in result.errors:
                where = str(error.get("file"))
                if error.get("line"):
                    where += f", ligne {error['line']}"
                lines.append(f"  - {where} : {error['message']}")
    return "\n".join(lines)
