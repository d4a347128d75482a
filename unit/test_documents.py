"""Request documents: strict JSON and size limits, shared by every transport."""
import dataclasses

import pytest

from zaqar_swift import documents
from zaqar_swift import errors
from zaqar_swift import validation

LIMITS = validation.Limits.defaults()


@pytest.mark.parametrize('raw', [
    '{', '[1', '"unterminated', '{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}',
    '{"a": 1e999}', '{"a": %d}' % (2 ** 63), '{"a": -%d}' % (2 ** 64), b'{"a": "\xff"}',
    b'\xfe\xff{}', '[' * 100000 + ']' * 100000, 'null', '  ',
])
def test_refused_documents(raw):
    with pytest.raises(errors.InvalidRequest):
        documents.parse(raw, 10 ** 6)


def test_accepted_documents_and_the_empty_body():
    assert documents.parse(b'', 10) is None and documents.parse('', 10) is None
    doc = documents.parse('{"a": %d, "b": -%d, "c": 1.5e300, "d": "\u00fc"}'
                          % (2 ** 63 - 1, 2 ** 63 - 1), 1000)
    assert doc == {'a': 2 ** 63 - 1, 'b': -(2 ** 63 - 1), 'c': 1.5e300, 'd': 'ü'}
    assert documents.parse(b'[1, {}]', 7) == [1, {}]


def test_size_is_counted_in_utf8_bytes_before_parsing():
    with pytest.raises(errors.PayloadTooLarge):
        documents.parse('"' + 'ü' * 5 + '"', 11)   # 12 bytes
    assert documents.parse('"' + 'ü' * 5 + '"', 12) == 'ü' * 5
    with pytest.raises(errors.PayloadTooLarge):
        documents.parse(b'{' * 20, 10)     # too long wins over malformed
    with pytest.raises(errors.PayloadTooLarge):
        documents.check_length(11, 10)
    documents.check_length(10, 10)


def test_limits_per_request_and_the_largest_body():
    assert documents.message_post_limit(LIMITS) == LIMITS.max_messages_post_size
    assert documents.request_limit(LIMITS) == LIMITS.max_queue_metadata
    assert documents.largest_body(LIMITS) == 256 * 1024
    bigger_metadata = dataclasses.replace(LIMITS, max_queue_metadata=10 ** 6)
    assert documents.largest_body(bigger_metadata) == 10 ** 6
    error = documents.too_large(LIMITS)
    assert isinstance(error, errors.RequestTooLarge) and '262144' in error.description
