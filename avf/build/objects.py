"""Content-addressed storage of output files: identical files are stored once.

After a site is built into its release folder, every file is swapped for a hard link to
its object in OUT/.objects/ (named by its SHA-256). So a page that did not change between
two builds is the very same file, with its old mtime (rsync and CDNs move only what
changed), and a photo or page shared by many cities or releases takes its space once.
When a release is pruned, the objects only it used are removed with it
(`release_objects_of`); `collect_garbage` sweeps the whole store (forced builds).
A page's precompressed siblings are objects too, named after the page's hash
(`<sha256>.gz`, `<sha256>.br`): an unchanged page is never compressed again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from avf.build.precompress import ENCODERS, is_compressible, sibling_suffixes, write_sibling

OBJECTS = ".objects"


def store_release(release: Path, output_dir: Path, precompress: bool = True) -> None:
    """Replace every file of `release` by a hard link to its content-addressed object, and
    (unless `precompress` is off) give each compressible public file its `.gz`/`.br`
    siblings (build/precompress.py), themselves links to objects named after the
    original's hash: compressed once per distinct content, and in the release before it
    is published."""
    objects = output_dir / OBJECTS
    public = release / "public"
    for root, _dirs, files in os.walk(release):
        in_public = Path(root).is_relative_to(public)
        present = set(files)
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as stream:
                data = stream.read()
            digest = hashlib.sha256(data).hexdigest()
            _link_to_object(path, objects / digest[:2] / digest)
            if not (precompress and in_public and is_compressible(name, len(data))):
                continue
            for suffix in sibling_suffixes(len(data)):
                if f"{name}{suffix}" not in present:  # a volunteer's own file: kept
                    write_sibling(data, f"{path}{suffix}",
                                  objects / digest[:2] / f"{digest}{suffix}", suffix)


def _link_to_object(path: str, target: Path) -> None:
    """Make `path` a hard link to `target`, storing `path` as that object if it is new."""
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
            return
        except FileExistsError:  # another worker stored the same bytes meanwhile
            pass
    _link(target, path)


def _link(target: Path, path: str) -> None:
    """Put a hard link to `target` at `path`, replacing whatever is there."""
    if os.path.samefile(target, path):
        # Linked already (a reused search index): `rename` between two links to one file
        # does nothing, and would leave the temporary link behind.
        return
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
            found = _object_of(paths[0], inode, objects)
            if found is not None:
                alone.append(found)
    return alone


def _object_of(path: str, inode: int, objects: Path) -> Path | None:
    """The object a release file is a link to: named after its own hash, or for a
    precompressed sibling (`x.html.br`) after its original's (`<sha256 of x.html>.br`)."""
    candidates = []
    for suffix in ENCODERS:
        original = path.removesuffix(suffix)
        if original != path and os.path.isfile(original):
            with open(original, "rb") as stream:
                digest = hashlib.sha256(stream.read()).hexdigest()
            candidates.append(objects / digest[:2] / f"{digest}{suffix}")
    with open(path, "rb") as stream:
        digest = hashlib.sha256(stream.read()).hexdigest()
    candidates.append(objects / digest[:2] / digest)
    for candidate in candidates:
        try:
            if os.stat(candidate).st_ino == inode:
                return candidate
        except OSError:
            continue
    return None


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
