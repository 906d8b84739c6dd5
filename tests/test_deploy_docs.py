"""The production guide keeps up with the code: every setting the service reads, and every
prefix nginx hands to the service, is in docs/deploy.md."""

from __future__ import annotations

import inspect
import re

from avf.deploy import TEMPLATE
from avf.service import settings
from tests.conftest import PROJECT_ROOT

GUIDE = (PROJECT_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    read = set(re.findall(r'"(AVF_[A-Z_]+)"', inspect.getsource(settings)))
    assert read, "the settings module reads no AVF_ variable?"
    assert not {name for name in read if f"`{name}`" not in GUIDE}


def test_every_proxied_prefix_is_documented() -> None:
    proxied = re.search(r"location ~ \^/\(([a-z|]+)\)", TEMPLATE.read_text()).group(1)
    assert set(proxied.split("|")) >= {"hooks", "compte", "membres", "admin", "editeur"}
    assert not {prefix for prefix in proxied.split("|") if f"`/{prefix}/`" not in GUIDE}
