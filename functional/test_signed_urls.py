"""Pre-signed URLs: made by python-zaqarclient's ``signed_url`` (the share
route), used with plain HTTP; refused (404, no detail) for another path, a
longer path, another method, after expiry, with a changed project or a
changed signature."""
from __future__ import annotations

import datetime
import time
import uuid

import pytest
import requests
from zaqarclient.queues.v2 import client as zaqar_client

from functional.helpers import Tenant, describe

KEY = 'test-signing-key'


@pytest.fixture(scope='module')
def signing_api(api_factory):
    api = api_factory(signed_url={'secret_key': KEY})
    yield api
    api.stop()


def _client(url: str, project: str) -> zaqar_client.Client:
    return zaqar_client.Client(url, version=2, conf={
        'auth_opts': {'backend': 'noauth', 'options': {'os_project_id': project}}})


def _headers(signed: dict, project: str | None = None) -> dict[str, str]:
    return {'URL-Signature': signed['signature'], 'URL-Expires': signed['expires'],
            'URL-Methods': ','.join(signed['methods']), 'URL-Paths': ','.join(signed['paths']),
            'X-Project-ID': signed['project'] if project is None else project,
            'Client-ID': str(uuid.uuid4())}


def _call(api, method: str, path: str, headers: dict[str, str], **kw) -> requests.Response:
    return requests.request(method, api.url + path, headers=headers, timeout=30, **kw)


def test_a_url_made_by_zaqarclient_opens_exactly_what_it_signs(signing_api):
    owner = Tenant(signing_api.url)
    ids = owner.post_bodies('shared', 2)
    queue = _client(signing_api.url, owner.project).queue('shared')
    signed = queue.signed_url(paths=['messages'], methods=['GET', 'POST'], ttl_seconds=600)
    assert signed['paths'] == ['/v2/queues/shared/messages'] and signed['project'] == \
        owner.project
    headers = _headers(signed)
    resp = _call(signing_api, 'GET', '/v2/queues/shared/messages?echo=true', headers)
    assert resp.status_code == 200, describe(resp)
    assert sorted(m['id'] for m in resp.json()['messages']) == sorted(ids)
    resp = _call(signing_api, 'POST', '/v2/queues/shared/messages', headers,
                 json={'messages': [{'body': 'via a signed URL'}]})
    assert resp.status_code == 201, describe(resp)
    refused = [
        ('DELETE', '/v2/queues/shared/messages?ids=' + ids[0], headers),        # method
        ('GET', '/v2/queues/shared/claims', headers),                           # path
        ('GET', '/v2/queues/shared/messages/' + ids[0], headers),               # longer
        ('GET', '/v2/queues/shared', headers),                                  # shorter
        ('GET', '/v2/queues/shared/messages', _headers(signed, 'someone-else')),
        ('GET', '/v2/queues/shared/messages',
         dict(headers, **{'URL-Signature': '0' * 64})),
        ('GET', '/v2/queues/shared/messages', dict(headers, **{'URL-Methods': 'GET,DELETE'})),
    ]
    for method, path, sent in refused:
        resp = _call(signing_api, method, path, sent)
        assert resp.status_code == 404, describe(resp)
    # the identity headers of a signed request are not believed
    resp = _call(signing_api, 'GET', '/v2/health', dict(headers, **{'X-Roles': 'admin'}))
    assert resp.status_code == 404, describe(resp)


def test_expired_url_is_refused(signing_api):
    owner = Tenant(signing_api.url)
    owner.create_queue('brief')
    expires = (datetime.datetime.now(datetime.timezone.utc)
               + datetime.timedelta(seconds=2)).strftime('%Y-%m-%dT%H:%M:%S')
    resp = owner.post('/v2/queues/brief/share', json={'expires': expires})
    assert resp.status_code == 200, describe(resp)
    headers = _headers(resp.json())
    assert _call(signing_api, 'GET', '/v2/queues/brief/messages', headers).status_code == 200
    time.sleep(2.5)
    assert _call(signing_api, 'GET', '/v2/queues/brief/messages', headers).status_code == 404


def test_share_refuses_bad_documents_and_a_service_without_key(signing_api, api):
    owner = Tenant(signing_api.url)
    for body in ({'paths': ['queues']}, {'project_id': 'x'}, {'expires': '2001-01-01T00:00:00'},
                 {'expires': '1700000000'}, {'methods': 'GET'}):
        resp = owner.post('/v2/queues/q/share', json=body)
        assert resp.status_code == 400, describe(resp)
    default = owner.post('/v2/queues/q/share').json()
    assert default['methods'] == ['GET'] and default['paths'] == ['/v2/queues/q/messages']
    keyless = Tenant(api.url, project=owner.project)
    assert keyless.post('/v2/queues/q/share').status_code == 400
    resp = _call(api, 'GET', '/v2/queues/q/messages', _headers(default))
    assert resp.status_code == 404, describe(resp)
