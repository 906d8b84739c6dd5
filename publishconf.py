"""Production settings: the shared settings plus the public address and nothing for debugging.

Used by `avf build --settings publishconf.py` (or `invoke publish`).
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pelicanconf import *  # noqa: F403

SITE_BASE_URL = os.environ.get("AVF_SITE_URL", "https://www.avf.asso.fr").rstrip("/")
