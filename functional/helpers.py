"""Helpers shared by the functional tests.

Every test talks to the running API over HTTP as its own tenant: a random
``X-Project-ID`` and a fresh ``Client-ID``, so tests never see each other's
queues and can run in any order against one API process.
"""
from __future__ import annotations

import time
import uuid
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import requests

JSON_PATCH = 'application/openstack-messaging-v2.0-json-patch'

# Zaqar v2 reserved queue metadata and its defaults (zaqar unit test
# v2_0/test_queue_lifecycle.py, python-zaqarclient functional test_queues.py).
RESERVED_DEFAULTS: dict[str, Any] = {
    '_max_messages_post_size': 262144,
    '_default_message_ttl': 3600,
    '_default_message_delay': 0,
    '_dead_letter_queue': None,
    '_dead_letter_queue_messages_ttl': None,
    '_max_claim_count': None,
}
# Newer Zaqar releases also report this one; it is allowed but not required.
OPTIONAL_RESERVED = {'_enable_encrypt_messages': False}

REQUEST_TIMEOUT = 60


def new_project() -> str:
    """A project id no other test uses."""
    return 'fn-' + uuid.uuid4().hex[:16]


class Tenant:
    """One project and one Client-ID with its own HTTP session."""

    def __init__(self, base_url: str, project: str | None = None,
                 client_id: str | None = None) -> None:
        self.base = base_url.rstrip('/')
        self.project = new_project() if project is None else project
        self.client_id = str(uuid.uuid4()) if client_id is None else client_id
        self.session = requests.Session()
        self.session.headers.update({
            'X-Project-ID': self.project,
            'Client-ID': self.client_id,
            'Accept': 'application/json',
        })

    def peer(self) -> 'Tenant':
        """Another client (new Client-ID) of the same project."""
        return Tenant(self.base, project=self.project)

    def url(self, path: str) -> str:
        return path if path.startswith('http') else self.base + path

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault('timeout', REQUEST_TIMEOUT)
        return self.session.request(method, self.url(path), **kwargs)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request('GET', path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request('PUT', path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request('POST', path, **kw)

    def patch(self, path: str, **kw: Any) -> requests.Response:
        return self.request('PATCH', path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request('DELETE', path, **kw)

    # -- conveniences that assert the happy path -----------------------------
    def create_queue(self, name: str, metadata: dict | None = None) -> None:
        resp = self.put(f'/v2/queues/{name}', json=metadata) if metadata is not None \
            else self.put(f'/v2/queues/{name}')
        assert resp.status_code in (201, 204), describe(resp)

    def post_messages(self, queue: str, messages: list[dict]) -> list[str]:
        """POST messages (in batches of 10); return their ids in order."""
        ids: list[str] = []
        for start in range(0, len(messages), 10):
            batch = messages[start:start + 10]
            resp = self.post(f'/v2/queues/{queue}/messages', json={'messages': batch})
            assert resp.status_code == 201, describe(resp)
            hrefs = resp.json()['resources']
            assert len(hrefs) == len(batch), describe(resp)
            ids.extend(message_id(h) for h in hrefs)
        return ids

    def post_bodies(self, queue: str, count: int, ttl: int = 300,
                    **extra: Any) -> list[str]:
        """POST ``count`` messages whose bodies are their index."""
        return self.post_messages(
            queue, [dict({'body': {'n': i}, 'ttl': ttl}, **extra) for i in range(count)])

    def claim(self, queue: str, ttl: int = 60, grace: int = 60,
              limit: int | None = None) -> tuple[str | None, list[dict]]:
        """Claim messages: (claim_id, messages), or (None, []) on 204."""
        params = {} if limit is None else {'limit': limit}
        resp = self.post(f'/v2/queues/{queue}/claims', params=params,
                         json={'ttl': ttl, 'grace': grace})
        if resp.status_code == 204:
            return None, []
        assert resp.status_code == 201, describe(resp)
        location = resp.headers.get('Location', '')
        return location.rstrip('/').rsplit('/', 1)[-1], resp.json()['messages']

    def list_messages(self, queue: str, **params: Any) -> dict:
        resp = self.get(f'/v2/queues/{queue}/messages', params=_params(params))
        assert resp.status_code == 200, describe(resp)
        return resp.json()

    def listed_ids(self, queue: str, **params: Any) -> list[str]:
        """Ids of every message listed, following ``next`` links."""
        return [m['id'] for m in self.walk_messages(queue, **params)]

    def walk_messages(self, queue: str, **params: Any) -> list[dict]:
        params.setdefault('limit', 20)
        doc = self.list_messages(queue, **params)
        found: list[dict] = []
        for _ in range(10000):
            if not doc['messages']:
                return found
            found.extend(doc['messages'])
            doc = self.follow_next(doc)
        raise AssertionError('message listing never ended')

    def follow_next(self, doc: dict) -> dict:
        href = next_href(doc)
        assert href, f'non-empty page without a next link: {doc}'
        resp = self.get(href)
        assert resp.status_code == 200, describe(resp)
        return resp.json()

    def stats(self, queue: str) -> dict:
        resp = self.get(f'/v2/queues/{queue}/stats')
        assert resp.status_code == 200, describe(resp)
        return resp.json()['messages']


def _params(params: dict) -> dict:
    """Query parameters as Zaqar expects them (booleans as true/false)."""
    return {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in params.items()}


def message_id(href: str) -> str:
    """The message id of a message href (with or without ?claim_id=)."""
    return urlsplit(href).path.rstrip('/').rsplit('/', 1)[-1]


def claim_id_of(href: str) -> str | None:
    """The claim id carried by a claimed message's href, if any."""
    values = parse_qs(urlsplit(href).query).get('claim_id')
    return values[0] if values else None


def next_href(doc: dict) -> str | None:
    for link in doc.get('links') or []:
        if link.get('rel') == 'next':
            return link['href']
    return None


def describe(resp: requests.Response) -> str:
    """A one-line account of a response, for assertion messages."""
    body = resp.text if len(resp.text) < 2000 else resp.text[:2000] + '...'
    return f'{resp.request.method} {resp.request.url} -> {resp.status_code} {body!r}'


def assert_json_error(resp: requests.Response, *statuses: int) -> dict:
    """The response is one of ``statuses`` with a JSON {title, description}."""
    assert resp.status_code < 500, 'server error: ' + describe(resp)
    assert resp.status_code in statuses, describe(resp)
    ctype = resp.headers.get('Content-Type', '')
    assert ctype.startswith('application/json'), f'Content-Type {ctype!r}: ' + describe(resp)
    doc = resp.json()
    assert isinstance(doc, dict), describe(resp)
    assert isinstance(doc.get('title'), str) and doc['title'], describe(resp)
    assert isinstance(doc.get('description'), str), describe(resp)
    return doc


def wait_until(predicate: Callable[[], Any], timeout: float,
               interval: float = 0.2, what: str = 'condition') -> Any:
    """Poll ``predicate`` until it returns something truthy or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f'{what} not reached within {timeout} s')
        time.sleep(interval)


def answer_confirmation(base_url: str, request: dict, body_key: str = 'SubscribeBody'
                        ) -> requests.Response:
    """PUT a confirmation request's pre-signed URL (as the subscriber would)
    with its ``SubscribeBody`` or ``UnsubscribeBody``, from a new Client-ID."""
    headers = {k: request[k] for k in ('URL-Signature', 'URL-Paths', 'URL-Methods',
                                       'URL-Expires', 'X-Project-ID')}
    headers['Client-ID'] = str(uuid.uuid4())
    return requests.put(base_url + request['URL-Paths'], headers=headers,
                        json=request[body_key], timeout=30)
