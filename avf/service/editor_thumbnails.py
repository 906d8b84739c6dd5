"""Small copies of the city's photos for the edit form's photo choice: a grid of two dozen
full-size photos (up to 1440 px, a few hundred KB each) would be heavy on a phone.

A thumbnail is made once per version of a photo (its name, size and date make the key) with
the members' photo code (`avf.service.photos.reencoded`: pixel limits checked before
decoding, a JPEG decoded at a reduced scale, no metadata kept), and kept in
`AVF_DATA_DIR/editor-thumbnails/<city>/` — never in the content, which is the sites' and
git's. Old versions' thumbnails stay until someone clears the folder: a few KB each.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from avf.editor.paths import CityFile
from avf.service.photos import PhotoError, reencoded

BOX = (320, 240)  # pixels: a grid tile is ~160 CSS px wide, twice that on a phone's screen
FOLDER = "editor-thumbnails"


def thumbnail(data_dir: Path, file: CityFile) -> Path | None:
    """The thumbnail of a city photo (made now if it is not there yet), or None when the
    photo cannot be read as one (a GIF, a broken file): then the original is shown."""
    stat = file.path.stat()
    key = hashlib.sha256(f"{file.rel}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    target = data_dir / FOLDER / file.city / f"{key.hexdigest()[:32]}.jpg"
    if target.is_file():
        return target
    try:
        small = reencoded(file.path.read_bytes(), BOX)
    except PhotoError:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    partial.write_bytes(small)
    os.replace(partial, target)  # two requests at once: the last copy wins, both whole
    return target
