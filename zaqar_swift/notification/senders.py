"""How one notification reaches one subscriber: a webhook POST, a mail, or
a webhook POST with a token of a Keystone trust.

Every sender answers with an :class:`Outcome`: delivered, or failed and
worth retrying (connection errors, timeouts, 408, 429, 5xx), or failed for
good (any other 4xx: the subscriber refuses this notification; Zaqar only
retries connection errors).
"""
from __future__ import annotations

import dataclasses
import json
import smtplib
import ssl
import urllib.parse
from email.message import EmailMessage
from typing import Any, Callable, NamedTuple

import requests

PLACEHOLDER = '"$zaqar_message$"'
RETRYABLE = (408, 429)


class Outcome(NamedTuple):
    delivered: bool
    retry: bool
    detail: str = ''


DELIVERED = Outcome(True, False)


def notification(body: Any, ttl: int, queue: str) -> dict[str, Any]:
    """Zaqar's notification document of one message."""
    return {'body': body, 'ttl': ttl, 'queue_name': queue, 'Message_Type': 'Notification'}


def _payload(message: dict[str, Any], options: dict[str, Any]) -> bytes:
    text = json.dumps(message)
    template = options.get('post_data')
    if isinstance(template, str):
        text = template.replace(PLACEHOLDER, text)
    return text.encode('utf-8')


def _status(code: int) -> Outcome:
    if 200 <= code < 300:
        return DELIVERED
    retry = code >= 500 or code in RETRYABLE
    return Outcome(False, retry, 'subscriber answered %d' % code)


class Webhook:
    """POST the notification (``options.post_data`` as a template,
    ``options.post_headers`` added) with a timeout; one session per thread
    would be nicer, a new connection each time is simpler and bounded."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def send(self, url: str, message: dict[str, Any], options: dict[str, Any],
             headers: dict[str, str] | None = None) -> Outcome:
        sent = {'Content-Type': 'application/json'}
        extra = options.get('post_headers')
        if isinstance(extra, dict):
            sent.update({str(k): str(v) for k, v in extra.items()})
        sent.update(headers or {})
        try:
            resp = requests.post(url, data=_payload(message, options), headers=sent,
                                 timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            return Outcome(False, True, type(exc).__name__)
        return _status(resp.status_code)


@dataclasses.dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    mode: str = 'plain'            # plain, starttls, ssl
    user: str | None = None
    password: str | None = None
    sender: str = 'zaqar-swift@localhost'
    subject: str = 'Zaqar notification of queue {queue}'
    body: str = '{message}'
    timeout: float = 10.0


class Mail:
    """One mail per notification through the configured SMTP server."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def compose(self, subscriber: str, message: dict[str, Any],
                options: dict[str, Any]) -> EmailMessage:
        parsed = urllib.parse.urlparse(subscriber)
        query = {k.lower(): v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()}
        queue = message.get('queue_name', '')
        mail = EmailMessage()
        mail['To'] = parsed.path
        mail['From'] = options.get('from') or self.settings.sender
        mail['Subject'] = (query.get('subject') or options.get('subject')
                           or self.settings.subject.format(queue=queue))
        mail.set_content(self.settings.body.format(message=json.dumps(message), queue=queue))
        return mail

    def send(self, subscriber: str, message: dict[str, Any], options: dict[str, Any],
             mail: EmailMessage | None = None) -> Outcome:
        mail = mail or self.compose(subscriber, message, options)
        try:
            with self._connect() as smtp:
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            return Outcome(False, False, str(exc))
        except (OSError, smtplib.SMTPException) as exc:
            return Outcome(False, True, type(exc).__name__)
        return DELIVERED

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.mode == 'ssl':
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.mode == 'starttls':
                smtp.starttls(context=ssl.create_default_context())
        if s.user:
            smtp.login(s.user, s.password or '')
        return smtp


class Trusted:
    """A webhook to ``trust+http(s)://...`` with the token of the trust
    made when the subscription was (``options.trust_id``)."""

    def __init__(self, webhook: Webhook, token_for: Callable[[str], str]) -> None:
        self._webhook = webhook
        self._token_for = token_for

    def send(self, subscriber: str, message: dict[str, Any],
             options: dict[str, Any]) -> Outcome:
        try:
            token = self._token_for(options.get('trust_id', ''))
        except Exception as exc:   # keystoneauth's failures: try again later
            return Outcome(False, True, 'no trust token: %s' % type(exc).__name__)
        return self._webhook.send(subscriber[len('trust+'):], message, options,
                                  {'X-Auth-Token': token})


class Senders:
    """The sender of each subscriber scheme."""

    def __init__(self, webhook: Webhook, mail: Mail | None = None,
                 trusted: Trusted | None = None) -> None:
        self.webhook, self.mail, self.trusted = webhook, mail, trusted

    def send(self, subscriber: str, message: dict[str, Any],
             options: dict[str, Any]) -> Outcome:
        scheme = urllib.parse.urlparse(subscriber).scheme
        if scheme in ('http', 'https'):
            return self.webhook.send(subscriber, message, options)
        if scheme == 'mailto' and self.mail is not None:
            return self.mail.send(subscriber, message, options)
        if scheme in ('trust+http', 'trust+https') and self.trusted is not None:
            return self.trusted.send(subscriber, message, options)
        return Outcome(False, False, 'no sender for %s subscribers here' % scheme)
