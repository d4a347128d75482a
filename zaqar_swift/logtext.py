"""Client-controlled text made safe for a log line.

A path, a method or a header comes from the client; written as it is, a
``%0a`` in a URL starts a forged log line and a space forges a field.
``field`` escapes everything but printable ASCII: control characters, the
space, backslash (so an escape cannot be faked) and every non-ASCII
character (WSGI strings carry raw bytes as Latin-1, so a UTF-8 path shows
as its bytes, ``\\xc3\\xa9``).
"""
from __future__ import annotations

import re

_UNSAFE = re.compile(r'[^\x21-\x5b\x5d-\x7e]')
MAX_FIELD = 2048


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if code < 0x100:
        return '\\x%02x' % code
    return '\\u%04x' % code if code < 0x10000 else '\\U%08x' % code


def field(value: object, limit: int = MAX_FIELD) -> str:
    """``value`` as one space-free, printable field (``-`` when None or
    empty), cut to ``limit`` characters before escaping."""
    if value is None:
        return '-'
    text = str(value)[:limit]
    return _UNSAFE.sub(_escape, text) if text else '-'
