"""Where a site is written before it is stored: a private folder in memory.

Creating files and folders is the slowest thing a build does on a disk. Measured on the
2-core benchmark machine (ext4): ~45 µs to create a file and ~30 µs a folder when the disk
is quiet, up to 0.6 ms and 0.45 ms while it is busy, against 14 µs and 4 µs in memory
(tmpfs); linking an existing file costs 7 µs on either. Most of a
rebuilt city's files already exist as objects (photos, calendars, its search index, and
every page but a few when one post changed), and Pagefind writes and rereads dozens of
files per site. So Pelican and Pagefind write each site into a *stage* in memory, and
`objects.store_release` then makes the release on disk out of hard links to objects,
creating on disk only the files whose bytes are new.

The stage lives under `$AVF_STAGING_DIR` when set, else `/dev/shm` (Linux's memory
folder) when it can be used and has 256 MiB free, else `OUT/.staging` on the output's own
disk (where storing adopts each new file with a link instead of copying it). The calling
process chooses it once per network build and hands it to the workers
(`SiteTask.staging_root`): Pagefind's
index depends on the order a folder lists its files (creation order in memory, a hash order
on ext4), so the sites of one output are always staged alike. Member-only pages pass through
it, so its folder is created private (0700) and must be ours, in a folder nobody else can
rename it in: a folder planted by another user, or a link, is never written into. A stage
is removed once stored or discarded; one left behind by a killed worker is swept at the
next network build.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

MEMORY_FOLDER = Path("/dev/shm")
ENVIRONMENT_VARIABLE = "AVF_STAGING_DIR"
ON_DISK = ".staging"  # beside the releases, when no memory folder can be used
# Below this much free room in the memory folder, a build stages on disk instead: a city's
# stage is a few MB (two workers, a portal), and a full memory folder would fail every city.
MEMORY_MIN_FREE = 256 * 1024 * 1024


def new_stage(root: Path, slug: str, release_id: str) -> Path:
    """An empty stage for one site's release, with its `public/` and `members/`, in `root`
    (from `staging_root`)."""
    stage = root / f"{slug}-{release_id}-{os.getpid()}"
    (stage / "public").mkdir(parents=True)
    (stage / "members").mkdir()
    return stage


def staging_root(output_dir: Path) -> Path:
    """The private folder stages are made in (see the module's docstring)."""
    configured = os.environ.get(ENVIRONMENT_VARIABLE)
    if configured:
        folder = _private_folder(Path(configured) / _owner_name())
        if folder is None:
            raise OSError(f"{ENVIRONMENT_VARIABLE}={configured} ne peut pas servir aux "
                          "constructions (dossier absent, partagé ou non modifiable)")
        return folder
    if (MEMORY_FOLDER.is_dir() and os.access(MEMORY_FOLDER, os.W_OK | os.X_OK)
            and _free_bytes(MEMORY_FOLDER) >= MEMORY_MIN_FREE):
        folder = _private_folder(MEMORY_FOLDER / _owner_name())
        if folder is not None:
            return folder
    folder = _private_folder(output_dir / ON_DISK)
    if folder is None:
        raise OSError(f"le dossier {output_dir / ON_DISK} ne peut pas servir aux constructions")
    return folder


def sweep_stale_stages(root: Path) -> int:
    """Remove the stages of `root` whose worker is gone (killed mid-build); return how
    many."""
    removed = 0
    for entry in root.iterdir():
        pid = entry.name.rpartition("-")[2]
        if pid.isdigit() and not _is_running(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed


def _owner_name() -> str:
    return f"avf-stages-{os.getuid()}"


def _private_folder(folder: Path) -> Path | None:
    """`folder`, created 0700 if missing; None unless it is a real folder of ours that
    nobody else can read, in a folder where nobody else can rename it (and put a link in
    its place once it was checked): one of ours or root's, not writable by all unless
    sticky (as /dev/shm and /tmp are)."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = os.lstat(folder)
        parent = os.stat(folder.parent)
    except OSError:
        return None
    if (not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid()
            or status.st_mode & 0o077):
        return None
    if parent.st_uid not in (0, os.getuid()) or (
            parent.st_mode & stat.S_IWOTH and not parent.st_mode & stat.S_ISVTX):
        return None
    return folder


def _free_bytes(folder: Path) -> int:
    status = os.statvfs(folder)
    return status.f_bavail * status.f_frsize


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True
