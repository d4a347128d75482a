"""Pre-signed URLs: Zaqar's HMAC (a vector made with Zaqar 23.0.1's
``zaqar.common.urls.create_signed_url``), exact paths, methods, expiry."""
from __future__ import annotations

import datetime

import pytest

from zaqar_swift import signed_urls

NOW = datetime.datetime(2030, 1, 1)
ZAQAR_VECTOR = '9e13c4c514a80a0484ef0fb78319f3ebbc75f5855ad4d7c016df24bdc0d152a5'
PATHS = ['/v2/queues/q/messages', '/v2/queues/q/claims']


def _headers(signed: dict) -> dict:
    return {'URL-Signature': signed['signature'], 'URL-Expires': signed['expires'],
            'URL-Methods': ','.join(signed['methods']), 'URL-Paths': ','.join(signed['paths'])}


def test_signature_matches_zaqars():
    signed = signed_urls.create('secret', PATHS, 'p1', '2099-01-02T03:04:05', ['POST', 'GET'],
                                now=NOW)
    assert signed == {'paths': sorted(PATHS), 'methods': ['GET', 'POST'], 'project': 'p1',
                      'expires': '2099-01-02T03:04:05', 'signature': ZAQAR_VECTOR}


def test_expiry_with_offset_and_default():
    signed = signed_urls.create('k', PATHS, 'p', '2099-01-02T05:04:05+02:00', now=NOW)
    assert signed['expires'] == '2099-01-02T03:04:05' and signed['methods'] == ['GET']
    assert signed_urls.create('k', PATHS, 'p', now=NOW)['expires'] == '2030-01-02T00:00:00'
    for bad in ('1700000000', '2001-01-01T00:00:00', 'tomorrow'):
        with pytest.raises(ValueError):
            signed_urls.create('k', PATHS, 'p', bad, now=NOW)
    with pytest.raises(ValueError):
        signed_urls.create(None, PATHS, 'p', now=NOW)


@pytest.mark.parametrize('method, path, project, change', [
    ('GET', '/v2/queues/q/messages', 'p1', {}),
    ('POST', '/v2/queues/q/claims', 'p1', {}),
])
def test_verify_accepts_what_was_signed(method, path, project, change):
    signed = signed_urls.create('k', PATHS, 'p1', '2099-01-01T00:00:00', ['GET', 'POST'],
                                now=NOW)
    signed_urls.verify('k', method, path, project, dict(_headers(signed), **change), now=NOW)


@pytest.mark.parametrize('key, method, path, project, change', [
    ('k', 'DELETE', '/v2/queues/q/messages', 'p1', {}),
    ('k', 'GET', '/v2/queues/q/messages/0661', 'p1', {}),
    ('k', 'GET', '/v2/queues/qq/messages', 'p1', {}),
    ('k', 'GET', '/v2/queues/q', 'p1', {}),
    ('k', 'GET', '/v2/queues/q/messages', 'p2', {}),
    ('other', 'GET', '/v2/queues/q/messages', 'p1', {}),
    (None, 'GET', '/v2/queues/q/messages', 'p1', {}),
    ('k', 'GET', '/v2/queues/q/messages', 'p1', {'URL-Signature': None}),
    ('k', 'GET', '/v2/queues/q/messages', 'p1', {'URL-Expires': '2099-01-01T00:00:01'}),
    ('k', 'GET', '/v2/queues/q/messages', 'p1', {'URL-Expires': '2029-01-01T00:00:00'}),
    ('k', 'GET', '/v2/queues/q/messages', 'p1', {'URL-Paths': '/v2/queues/q/messages'}),
])
def test_verify_refuses_anything_else(key, method, path, project, change):
    signed = signed_urls.create('k', PATHS, 'p1', '2099-01-01T00:00:00', ['GET', 'POST'],
                                now=NOW)
    with pytest.raises(signed_urls.BadSignature):
        signed_urls.verify(key, method, path, project, dict(_headers(signed), **change),
                           now=NOW)
