"""YAML as the editor writes it: readable by a person with a text editor, and read back
unchanged by the build's reader (which reads every scalar as text).

Shared by posts' front matter (avf.editor.drafts) and the city card (avf.editor.card_form).
"""

from __future__ import annotations

from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    """Writes every text plain when the build's reader (which reads scalars as text) would
    read it back unchanged: `2026-11-29`, `14:30`, `oui` need no quotes."""


def _flow_list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=True)


_Dumper.add_representer(list, _flow_list)  # tags: [sortie, randonnée]
_Dumper.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()
}


class _BlockListDumper(_Dumper):
    """The same, with lists one item a line (opening hours read better that way)."""


_BlockListDumper.add_representer(list, yaml.SafeDumper.represent_list)


def dump_yaml(fields: dict[str, Any], block_lists: bool = False) -> str:
    """`fields` as YAML, in their order, one field a line ("" for no field)."""
    if not fields:
        return ""
    dumper = _BlockListDumper if block_lists else _Dumper
    return yaml.dump(fields, Dumper=dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=10_000)
