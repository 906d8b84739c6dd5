"""Run a command and measure it: wall time, CPU time and peak memory of its whole process
tree (workers included), sampled from /proc — `time -v` only sees direct children."""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_EVERY = 0.02  # seconds between two memory samples
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Measure:
    wall: float  # seconds
    cpu: float  # user + system seconds of the command and its descendants (sampled)
    peak_mib: float  # largest sum of resident memory of the tree at one instant
    returncode: int


def measure(command: Sequence[str], cwd: Path | None = None,
            env: dict[str, str] | None = None) -> Measure:
    """Run `command` to completion, sampling its process tree's memory meanwhile.

    The disk is flushed first: the previous command's writes, or a removed output of
    ~20,000 files before a cold build, would otherwise be written back during this one
    and be counted against whichever tool runs next."""
    os.sync()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    peak = 0
    cpu_ticks: dict[int, int] = {}  # last seen user+system ticks of each process
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            rss = 0
            for pid, resident, ticks in _session(process.pid):
                rss += resident
                cpu_ticks[pid] = max(cpu_ticks.get(pid, 0), ticks)
            peak = max(peak, rss)
            time.sleep(SAMPLE_EVERY)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    returncode = process.wait()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    # Two views of the same CPU time, each blind to a part of it: the rusage of the
    # command counts itself and the descendants it waited for (exactly); the samples
    # count every process of the session, including workers nobody waits for (a fork
    # server's), but miss each one's last 20 ms. The larger one is the better estimate;
    # adding them would count waited children twice.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    waited = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    sampled = sum(cpu_ticks.values()) / CLOCK_TICKS
    return Measure(wall, max(waited, sampled), peak / 2**20, returncode)


def _session(root: int) -> list[tuple[int, int, int]]:
    """(pid, resident bytes, user+system ticks) of every process in `root`'s session."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stream:
                fields = stream.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[3] is the session id, [11] utime, [12] stime, [21] rss (pages): proc(5)
        if int(fields[3]) == root:
            found.append((int(entry), int(fields[21]) * PAGE_SIZE,
                          int(fields[11]) + int(fields[12])))
    return found
