"""Content-addressed storage of output files: identical files are stored once.

A site is built into a stage (build/staging.py, in memory); its release on disk is then
made of hard links to objects in OUT/.objects/ (each named by its SHA-256), and only
bytes never stored before are written. So a page that did not change between
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
from collections.abc import Callable, Collection
from functools import cache
from pathlib import Path

from avf.build.precompress import ENCODERS, is_compressible

OBJECTS = ".objects"


def store_release(stage: Path, release: Path, output_dir: Path, precompress: bool = True,
                  *, only: Collection[str] | None = None, leave: Collection[str] = ()) -> None:
    """Make `release` (a new folder on disk) out of hard links to the objects of every file
    of `stage` (build/staging.py), and (unless `precompress` is off) give each compressible
    public file its precompressed siblings (build/precompress.py), themselves links to
    objects named after the original's hash: compressed once per distinct content, and in
    the release before it is published.

    Only bytes never stored before are written to disk; everything else is a link. A
    stage on the output's own disk gives its new files to the store (a link, no copy).
    A stage can be stored in parts (paths relative to the stage, of folders or files):
    everything but `leave`, then `only` those (the search index, which Pagefind writes
    while the pages are stored).
    """
    objects = output_dir / OBJECTS
    adopt = _same_device(stage, output_dir)
    public = stage / "public"
    for root, dirs, files in os.walk(stage):
        relative = os.path.relpath(root, stage)
        prefix = "" if relative == "." else f"{relative}/"
        dirs[:] = [name for name in dirs
                   if _wanted(f"{prefix}{name}", only, leave, folder=True)]
        folder = release / relative
        folder.mkdir(parents=True, exist_ok=True)
        in_public = Path(root).is_relative_to(public)
        present = set(files)
        for name in files:
            if not _wanted(f"{prefix}{name}", only, leave, folder=False):
                continue
            source = os.path.join(root, name)
            with open(source, "rb") as stream:
                data = stream.read()
            digest = hashlib.sha256(data).hexdigest()
            _store(source, lambda data=data: data, objects / digest[:2] / digest,
                   str(folder / name), adopt)
            if not (precompress and in_public and is_compressible(name, len(data))):
                continue
            for suffix in ENCODERS:
                if f"{name}{suffix}" not in present:  # a volunteer's own file: kept
                    store_sibling(data, digest, str(folder / f"{name}{suffix}"), objects,
                                  suffix)


def store_sibling(data: bytes, digest: str, sibling: str, objects: Path, suffix: str) -> None:
    """Put `data` (whose SHA-256 is `digest`) compressed for `suffix` at `sibling`, as a link
    to its object named after the original's hash (`<digest>.gz`): compressed only when
    that object is new, and nothing written when compression would not shrink the file."""
    target = objects / digest[:2] / f"{digest}{suffix}"
    packed = cache(lambda: ENCODERS[suffix](data))  # compressed once, if ever
    if not target.exists() and len(packed()) >= len(data):
        return
    _store(sibling, packed, target, sibling, adopt=False)


def _wanted(path: str, only: Collection[str] | None, leave: Collection[str],
            folder: bool) -> bool:
    """Whether `path` (relative to the stage) is stored, or for a folder walked into."""
    if path in leave:
        return False
    if only is None:
        return True
    return any(path == part or path.startswith(f"{part}/")
               or (folder and part.startswith(f"{path}/")) for part in only)


def _same_device(stage: Path, output_dir: Path) -> bool:
    return os.stat(stage).st_dev == os.stat(output_dir).st_dev


def _store(source: str, content: Callable[[], bytes], target: Path, path: str,
           adopt: bool) -> None:
    """Make `path` a hard link to the object `target`, storing the file's bytes as that
    object if it is new: by adopting `source` itself (same disk) or by writing `content()`
    at `path` (only called then: a sibling is compressed only when its object is new).

    An object can vanish between looking and linking: the main process prunes an old
    release of another site with the objects only it used, and this site may have made
    the same bytes meanwhile. Then it is stored again, instead of failing the site."""
    if adopt and os.stat(source).st_nlink > 1:
        adopt = False  # linked from elsewhere: never adopt it, store a copy of its own
    for _attempt in range(3):
        if not target.exists():
            if os.path.lexists(path):  # written by an attempt whose object was taken
                if _adopt(path, target):
                    return
            elif adopt:
                _adopt(source, target)
            else:
                _write_new(path, content())
                if _adopt(path, target):
                    return  # written at `path` and adopted: it is the object already
        try:
            _link(target, path)
            return
        except FileNotFoundError:
            continue  # pruned meanwhile: store it again
    raise FileNotFoundError(f"l'objet {target.name} disparaît sans cesse pendant l'écriture "
                            f"de {path}")


def _adopt(path: str, target: Path) -> bool:
    """Make the file at `path` the object `target`; False if another worker stored the
    same bytes meanwhile (then `target` is theirs)."""
    os.chmod(path, 0o444)  # objects are shared: never edit one in place
    try:
        os.link(path, target)
    except FileNotFoundError:  # its folder is new
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except FileExistsError:
            return False
    except FileExistsError:
        return False
    return True


def _write_new(path: str, data: bytes) -> None:
    """Write `data` as a new read-only file at `path` (in a new release: nothing is there),
    whole or not at all (a full disk may take part of one `write`): never adopted cut."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)


def _link(target: Path, path: str) -> None:
    """Put a hard link to `target` at `path`, replacing whatever is there."""
    if os.path.exists(path):
        if os.path.samefile(target, path):
            # Linked already (a reused search index): `rename` between two links to one
            # file does nothing, and would leave the temporary link behind.
            return
        temporary = f"{path}.link"
        os.link(target, temporary)
        os.replace(temporary, path)
        return
    os.link(target, path)


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
