"""Text files as users save them: UTF-8 is required, and a file in another encoding gets an error
that names the encoding it is in (GB18030/GBK from Chinese Windows, Big5, UTF-16) and says what to do."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from .errors import Problem

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def guess_encoding(data: bytes) -> str | None:
    """The encoding a file that is not UTF-8 is most likely in, or None (binary, unknown)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16"
    for name, label in (("gbk", "GBK"), ("gb18030", "GB18030"), ("big5", "Big5")):
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        if _HAN.search(text):
            return label
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    return "Windows-1252 (Western)"


def not_utf8(data: bytes, reason: str) -> str:
    """The message for a file that is not UTF-8."""
    encoding = guess_encoding(data)
    if encoding:
        return (f"the file is saved in the {encoding} encoding, not UTF-8; save it as UTF-8 "
                "(e.g. in Notepad: Save as, Encoding: UTF-8)")
    return f"not UTF-8 text ({reason}); save the file as UTF-8"


def read_text(path: Path, shown: str) -> tuple[str | None, list[Problem]]:
    """The text of a UTF-8 file (a byte-order mark is dropped), or None and the problem."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [Problem(shown, None, f"cannot read: {exc.strerror or exc}")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(shown, data.count(b"\n", 0, exc.start) + 1, not_utf8(data, exc.reason))]
    return text.removeprefix("\ufeff"), []
