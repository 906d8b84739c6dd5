"""Text typed into the members' forms, tidied the same way everywhere: no control
characters; one line (one space between words) for a name or a phone number, since a line
break in a name would end up in a mail's subject; line ends kept as `\\n` in a message."""

from __future__ import annotations

import unicodedata


def one_line(value: object) -> str:
    """`value` as one tidy line ("" for anything that is not text)."""
    return " ".join(_printable(value).split())


def text_block(value: object) -> str:
    """`value` as text of several lines, without control characters, trimmed."""
    return _printable(value).strip()


def french_number(count: int) -> str:
    """5000 -> « 5 000 », as French writes it (a no-break space between thousands)."""
    return f"{count:,}".replace(",", "\u00a0")


def sort_key(name: str) -> str:
    """A name as people sort it: accents and case ignored (« Élise » between « Eddy » and
    « Emma »)."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _printable(value: object) -> str:
    text = value if isinstance(value, str) else ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(char for char in text if char in "\n\t" or unicodedata.category(char) != "Cc")
