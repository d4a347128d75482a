"""Client-controlled text in log lines: one printable field, no forgery."""
import pytest

from zaqar_swift import logtext


@pytest.mark.parametrize('raw,shown', [
    ('/v2/queues/q', '/v2/queues/q'),
    ('/v2/queues/q\n2026-01-01 INFO forged', '/v2/queues/q\\x0a2026-01-01\\x20INFO\\x20forged'),
    ('a\rb\tc\x00d\x7fe', 'a\\x0db\\x09c\\x00d\\x7fe'),
    ('proj x=1', 'proj\\x20x=1'),
    ('back\\slash', 'back\\x5cslash'),
    ('\u00e9\x85\u2028\U0001f600', '\\xe9\\x85\\u2028\\U0001f600'),
    (None, '-'), ('', '-'),
])
def test_field_escapes_everything_but_printable_ascii(raw, shown):
    assert logtext.field(raw) == shown


def test_field_is_bounded_and_never_splits():
    text = logtext.field('\n' * 10000)
    assert len(text) == logtext.MAX_FIELD * 4 and '\n' not in text
    assert ' ' not in logtext.field(' '.join(map(chr, range(0x30000))))
