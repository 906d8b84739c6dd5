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


class Plain(str):
    """A text written without quotes in a quoted card (`lat: 45.764`)."""


class _CardDumper(_Dumper):
    """The city card's style, as people write it by hand: texts in double quotes, names
    bare, lists one item a line and indented (postal codes, opening hours)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _quoted(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')


def _plain(dumper: yaml.SafeDumper, text: Plain) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(text))


def _bare_names(dumper: yaml.SafeDumper, mapping: dict[Any, Any]) -> yaml.Node:
    node = dumper.represent_mapping("tag:yaml.org,2002:map", mapping)
    for key, _value in node.value:
        key.style = None  # `name:` rather than `"name":`
    return node


_CardDumper.add_representer(list, yaml.SafeDumper.represent_list)
_CardDumper.add_representer(dict, _bare_names)
_CardDumper.add_representer(str, _quoted)
_CardDumper.add_representer(Plain, _plain)


def dump_yaml(fields: dict[str, Any], card_style: bool = False) -> str:
    """`fields` as YAML, in their order, one field a line ("" for no field); `card_style`:
    the city card's (texts quoted, lists in blocks)."""
    if not fields:
        return ""
    dumper = _CardDumper if card_style else _Dumper
    return yaml.dump(fields, Dumper=dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=10_000)
