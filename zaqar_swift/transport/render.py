"""Zaqar v2 response documents built from what the service returns, for
every transport.

The service speaks in ids; this module adds the ``href`` fields and ``next``
links and keeps only the fields Zaqar v2 shows (python-zaqarclient builds its
Message objects with ``Message(**fields)``, so an extra field breaks it).
The REST resources send these documents as they are; the websocket
transport sends the same ones with the few fields Zaqar's websocket API
adds (``transport/websocket/render.py``).
"""
from __future__ import annotations

from typing import Any

import falcon

QUEUES = '/v2/queues'
TOPICS = '/v2/topics'   # ``base`` of a topic's documents: they are a queue's otherwise


def queue_href(queue: str, base: str = QUEUES) -> str:
    return f'{base}/{queue}'


def messages_href(queue: str, base: str = QUEUES) -> str:
    return f'{base}/{queue}/messages'


def message_href(queue: str, message_id: str, claim_id: str | None = None,
                 base: str = QUEUES) -> str:
    href = f'{messages_href(queue, base)}/{message_id}'
    return href + falcon.to_query_str({'claim_id': claim_id}) if claim_id else href


def claim_href(queue: str, claim_id: str) -> str:
    return f'{QUEUES}/{queue}/claims/{claim_id}'


def next_links(path: str, query: dict[str, Any]) -> list[dict[str, str]]:
    """The ``links`` of a non-empty page: a ``next`` href repeating ``query``."""
    params = {k: v for k, v in query.items() if v is not None}
    return [{'rel': 'next', 'href': path + falcon.to_query_str(params)}]


# -- messages ------------------------------------------------------------------
def message(msg: dict[str, Any], queue: str, claim_id: str | None = None,
            base: str = QUEUES) -> dict[str, Any]:
    """A message as GET, list and claim responses show it; its href carries
    the claim id while the message is claimed, as in Zaqar."""
    href = message_href(queue, msg['id'], claim_id or msg.get('claim_id'), base)
    return {'id': msg['id'], 'href': href, 'ttl': msg['ttl'], 'age': msg['age'],
            'body': msg['body']}


def popped(msg: dict[str, Any]) -> dict[str, Any]:
    """A message returned by ``DELETE ?pop=``: storage fields, no href."""
    return {key: msg[key] for key in ('id', 'ttl', 'age', 'body', 'claim_id', 'claim_count')
            if key in msg}


def message_page(path: str, queue: str, messages: list[dict[str, Any]],
                 marker: str | None, query: dict[str, Any],
                 base: str = QUEUES) -> dict[str, Any]:
    """A message listing; a page without a marker has no links (a 200, not a
    204). A short page with a marker (the request's listing budget ran out)
    links on."""
    links = next_links(path, dict(query, marker=marker)) if marker else []
    return {'messages': [message(m, queue, base=base) for m in messages], 'links': links}


# -- queues --------------------------------------------------------------------
def _queue(entry: dict[str, Any], base: str = QUEUES) -> dict[str, Any]:
    shown = {'name': entry['name'], 'href': queue_href(entry['name'], base)}
    if 'metadata' in entry:
        shown['metadata'] = entry['metadata']
    return shown


def queue_page(path: str, queues: list[dict[str, Any]], marker: str | None,
               count: int | None, query: dict[str, Any]) -> dict[str, Any]:
    """A queue listing: a non-empty page always links to the next one (which
    resumes after its last queue), ``count`` only when it was asked for."""
    links = []
    if queues:
        links = next_links(path, dict(query, marker=marker or queues[-1]['name']))
    document = {'queues': [_queue(q) for q in queues], 'links': links}
    if count is not None:
        document['count'] = count
    return document


def stats(document: dict[str, Any], queue: str, base: str = QUEUES) -> dict[str, Any]:
    """Queue stats with ``oldest``/``newest`` pointing at their messages by href."""
    counts = dict(document['messages'])
    for key in ('oldest', 'newest'):
        if key in counts:
            entry = dict(counts[key])
            entry['href'] = message_href(queue, entry.pop('id'), base=base)
            counts[key] = entry
    return {'messages': counts}


def topic_page(path: str, topics: list[dict[str, Any]], marker: str | None,
               query: dict[str, Any]) -> dict[str, Any]:
    """A topic listing: as a queue listing, under ``topics``, never a count."""
    links = []
    if topics:
        links = next_links(path, dict(query, marker=marker or topics[-1]['name']))
    return {'topics': [_queue(t, TOPICS) for t in topics], 'links': links}


# -- claims --------------------------------------------------------------------
def claim(document: dict[str, Any], queue: str) -> dict[str, Any]:
    """A claim as GET shows it: its href instead of its id."""
    cid = document['id']
    return {'age': document['age'], 'ttl': document['ttl'], 'grace': document['grace'],
            'href': claim_href(queue, cid),
            'messages': [message(m, queue, cid) for m in document['messages']]}


def claimed(messages: list[dict[str, Any]], queue: str, claim_id: str) -> dict[str, Any]:
    """The body of a 201 claim creation."""
    return {'messages': [message(m, queue, claim_id) for m in messages]}


# -- subscriptions ---------------------------------------------------------------
def subscription_page(path: str, subs: list[dict[str, Any]], marker: str | None,
                      query: dict[str, Any]) -> dict[str, Any]:
    """A subscription listing; a non-empty page links to the next one."""
    links = next_links(path, dict(query, marker=marker)) if subs else []
    return {'subscriptions': subs, 'links': links}
