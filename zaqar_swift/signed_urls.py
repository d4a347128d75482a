"""Pre-signed URLs, compatible with Zaqar's (and python-zaqarclient's).

A signature is the hex HMAC-SHA256, keyed with ``[signed_url] secret_key``,
of the sorted paths and sorted methods (each joined with ``,``), the project
id and the expiry (``%Y-%m-%dT%H:%M:%S``, UTC), separated by the two
characters backslash and ``n`` (Zaqar's format, kept for compatibility).

A request carries it in headers (``URL-Signature``, ``URL-Paths``,
``URL-Methods``, ``URL-Expires``, ``X-Project-ID``). Unlike Zaqar, which
accepts any request path that a signed path matches as a regular expression
(so a signed ``/v2/queues/a`` reaches ``/v2/queues/ab/...``), the request
path must equal one of the signed paths.
"""
from __future__ import annotations

import datetime
import hashlib
import hmac
from typing import Any

from zaqar_swift import errors

DATE_FORMAT = '%Y-%m-%dT%H:%M:%S'
DEFAULT_LIFE = datetime.timedelta(days=1)
HEADERS = ('URL-Signature', 'URL-Paths', 'URL-Methods', 'URL-Expires')


class BadSignature(errors.NotFound):
    """A signed request whose signature, path, method or expiry does not hold
    (404 without detail, as Zaqar)."""

    title = 'Not found'


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _expiry(expires: str | None, now: datetime.datetime) -> datetime.datetime:
    """The expiry as a naive UTC datetime; ValueError when malformed or past."""
    if expires is None:
        return now + DEFAULT_LIFE
    if expires.strip().lstrip('-').isdigit():
        raise ValueError('expires must be a date such as 2016-01-01T00:00:00, not '
                         'an integer: %s' % expires)
    stamp = datetime.datetime.fromisoformat(expires.strip())
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    if stamp <= now:
        raise ValueError('expires is lower than the current time')
    return stamp


def _signature(key: str, paths: list[str], methods: list[str], project: str | None,
               expires: str) -> str:
    text = '\\n'.join((','.join(paths), ','.join(methods), str(project), expires))
    return hmac.new(key.encode('utf-8'), text.encode('utf-8'), hashlib.sha256).hexdigest()


def create(key: str | None, paths: list[str], project: str | None,
           expires: str | None = None, methods: list[str] | None = None,
           now: datetime.datetime | None = None) -> dict[str, Any]:
    """``{'paths', 'methods', 'project', 'expires', 'signature'}``.
    ValueError when there is no key or ``expires`` is malformed or past."""
    if not key:
        raise ValueError('The service has no [signed_url] secret_key to sign with.')
    stamp = _expiry(expires, now or _utcnow()).strftime(DATE_FORMAT)
    paths, methods = sorted(paths), sorted(methods or ['GET'])
    return {'paths': paths, 'methods': methods, 'project': project, 'expires': stamp,
            'signature': _signature(key, paths, methods, project, stamp)}


def verify(key: str | None, method: str, path: str, project: str | None,
           headers: dict[str, str | None], now: datetime.datetime | None = None) -> None:
    """Check a signed request (``headers`` maps each of ``HEADERS`` to its
    value); BadSignature when it does not hold."""
    paths = (headers.get('URL-Paths') or '').split(',')
    methods = (headers.get('URL-Methods') or '').split(',')
    if not key or method not in methods or path not in paths:
        raise BadSignature()
    try:
        expected = create(key, paths, project, headers.get('URL-Expires') or '', methods, now)
    except ValueError:
        raise BadSignature() from None
    if not hmac.compare_digest(expected['signature'], headers.get('URL-Signature') or ''):
        raise BadSignature()
