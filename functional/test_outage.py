"""A Swift outage is a 503 with a JSON body and Retry-After, never a 500 or
a traceback; the API recovers by itself when Swift is back."""
import uuid

import requests

from zaqar_swift.testing.ports import free_port_block


def test_swift_unreachable_is_503_json(api_factory):
    closed = free_port_block(1)
    api = api_factory(swift={'v1_auth_url': 'http://127.0.0.1:%d/auth/v1.0' % closed,
                             'retries': 0, 'request_timeout': 2})

    headers = {'X-Project-ID': uuid.uuid4().hex, 'Client-ID': str(uuid.uuid4())}
    for method, path, body in (
            ('GET', '/v2/queues/q', None),
            ('PUT', '/v2/queues/q', {}),
            ('POST', '/v2/queues/q/messages', {'messages': [{'body': 1}]}),
            ('GET', '/v2/queues/q/messages', None),
            ('POST', '/v2/queues/q/claims', {'ttl': 60, 'grace': 60}),
            ('GET', '/v2/queues/q/stats', None)):
        resp = requests.request(method, api.url + path, json=body, headers=headers,
                                timeout=30)
        assert resp.status_code == 503, (method, path, resp.status_code, resp.text)
        doc = resp.json()
        assert doc['title'] and 'storage' in doc['description'].lower()
        assert resp.headers.get('Retry-After')
        assert 'Traceback' not in resp.text
    assert 'Traceback' not in open(api.log_path).read()
