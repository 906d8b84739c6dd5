"""Content-addressed storage of output files: identical files are stored once.

After a site is built into its release folder, every file is swapped for a hard link to
its object in OUT/.objects/ (named by its SHA-256). So a page that did not change between
two builds is the very same file, with its old mtime (rsync and CDNs move only what
changed), and a photo or page shared by many cities or releases takes its space once.
When a release is pruned, the objects only it used are removed with it
(`release_objects_of`); `collect_garbage` sweeps the whole store (forced builds).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

OBJECTS = ".objects"


def store_release(release: Path, output_dir: Path) -> None:
    """Replace every file of `release` by a hard link to its content-addressed object."""
    objects = output_dir / OBJECTS
    for root, _dirs, files in os.walk(release):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as stream:
                digest = hashlib.sha256(stream.read()).hexdigest()
            target = objects / digest[:2] / digest
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                if os.stat(path).st_nlink > 1:
                    # Linked from elsewhere (a volunteer's own file, with Pelican's
                    # STATIC_CREATE_LINKS): never adopt it, store a copy of its own.
                    shutil.copyfile(path, f"{path}.own")
                    os.replace(f"{path}.own", path)
                try:
                    os.link(path, target)
                    os.chmod(target, 0o444)  # objects are shared: never edit one in place
                    continue
                except FileExistsError:  # another worker stored the same bytes meanwhile
                    pass
            temporary = f"{path}.link"
            os.link(target, temporary)
            os.replace(temporary, path)


def release_objects_of(release: Path, output_dir: Path) -> list[Path]:
    """The objects that only `release` still uses (to remove together with it)."""
    objects = output_dir / OBJECTS
    by_inode: dict[int, list[str]] = {}
    links: dict[int, int] = {}
    for root, _dirs, files in os.walk(release):
        for name in files:
            path = os.path.join(root, name)
            stat = os.stat(path)
            by_inode.setdefault(stat.st_ino, []).append(path)
            links[stat.st_ino] = stat.st_nlink
    alone = []
    for inode, paths in by_inode.items():
        if links[inode] == len(paths) + 1:  # this release's links and the object itself
            with open(paths[0], "rb") as stream:
                digest = hashlib.sha256(stream.read()).hexdigest()
            alone.append(objects / digest[:2] / digest)
    return alone


def collect_garbage(output_dir: Path) -> int:
    """Remove objects that no release uses any more; return how many were removed."""
    removed = 0
    objects = output_dir / OBJECTS
    if not objects.is_dir():
        return 0
    for folder in objects.iterdir():
        for entry in os.scandir(folder):
            if entry.stat(follow_symlinks=False).st_nlink == 1:
                os.unlink(entry.path)
                removed += 1
    return removed
