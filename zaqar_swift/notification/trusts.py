"""Keystone trusts for ``trust+http(s)`` subscribers.

When such a subscription is made, the caller's token creates a trust from
the caller to the service user (impersonating, the caller's roles, expiring
with the subscription); the worker authenticates as the service user scoped
to that trust and sends the token with each notification. The trust is
deleted with the subscription. The service user is ``[keystone_authtoken]``'s.
"""
from __future__ import annotations

import datetime
import logging
import threading
import time
from typing import Any

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from oslo_config import cfg

from zaqar_swift import errors
from zaqar_swift.subscriptions import Identity

LOG = logging.getLogger(__name__)
GROUP = 'keystone_authtoken'
TOKEN_REUSE = 300.0   # seconds a trust token is reused


class KeystoneTrusts:
    """Create, use and delete trusts with the service user's credentials."""

    def __init__(self, auth_url: str, service: Any, credentials: dict[str, str]) -> None:
        self._auth_url = auth_url.rstrip('/')
        self._service = ks_session.Session(auth=service)
        self._credentials = credentials
        self._tokens: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> 'KeystoneTrusts':
        ks_loading.register_auth_conf_options(conf, GROUP)
        auth = ks_loading.load_auth_from_conf_options(conf, GROUP)
        group = conf[GROUP]
        url = conf.notification.trust_auth_url or group.auth_url
        credentials = {k: getattr(group, k, None) for k in (
            'username', 'password', 'user_domain_name', 'user_domain_id')}
        return cls(url, auth, {k: v for k, v in credentials.items() if v})

    def _url(self, path: str) -> str:
        return self._auth_url + path

    def create(self, identity: Identity, project: str, ttl: int) -> str:
        expires = (datetime.datetime.now(datetime.timezone.utc)
                   + datetime.timedelta(seconds=ttl)).strftime('%Y-%m-%dT%H:%M:%S.000000Z')
        caller = ks_session.Session(auth=v3.Token(self._auth_url, identity.token,
                                                  project_id=project))
        body = {'trust': {'trustor_user_id': identity.user_id,
                          'trustee_user_id': self._service.get_user_id(),
                          'project_id': project, 'impersonation': True,
                          'roles': [{'name': r} for r in identity.roles],
                          'expires_at': expires}}
        try:
            resp = caller.post(self._url('/OS-TRUST/trusts'), json=body)
        except ks_exc.HttpError as exc:
            raise errors.InvalidRequest('Keystone refused to create a trust for this '
                                        'subscriber (%s).' % exc.http_status) from None
        except ks_exc.ClientException as exc:
            raise errors.IdentityUnavailable('Keystone cannot be reached to create '
                                             'a trust: %s' % exc) from None
        return resp.json()['trust']['id']

    def delete(self, trust_id: str) -> None:
        try:
            self._service.delete(self._url('/OS-TRUST/trusts/%s' % trust_id))
        except ks_exc.NotFound:
            pass
        except ks_exc.ClientException as exc:
            LOG.warning('could not delete trust %s: %s', trust_id, exc)
        with self._lock:
            self._tokens.pop(trust_id, None)

    def token(self, trust_id: str) -> str:
        """A token of the service user scoped to the trust (cached)."""
        now = time.monotonic()
        with self._lock:
            cached = self._tokens.get(trust_id)
        if cached and now - cached[0] < TOKEN_REUSE:
            return cached[1]
        auth = v3.Password(self._auth_url, trust_id=trust_id, **self._credentials)
        token = ks_session.Session(auth=auth).get_token()
        with self._lock:
            self._tokens[trust_id] = (now, token)
        return token
