"""The one table from domain errors to response statuses, for every transport.

Zaqar answers with HTTP statuses on REST and puts the same statuses in its
websocket responses, so the table lives in the core: ``status_for``,
``error_body`` and ``extra_headers`` give any transport the status, the
``{"title", "description"}`` body and the headers of an error.
"""
from __future__ import annotations

from zaqar_swift import errors

RETRY_AFTER = '30'

STATUS: dict[type[errors.ZaqarSwiftError], int] = {
    errors.InvalidRequest: 400,        # and MissingHeader, MessageNotClaimed
    errors.Unauthorized: 401,
    errors.Forbidden: 403,             # and MessageIsClaimed, ClaimMismatch, PolicyDenied
    errors.NotFound: 404,              # and Queue/Message/ClaimNotFound
    errors.Conflict: 409,
    # Zaqar answers 400 to an oversized body, and python-zaqarclient raises
    # only for the statuses Zaqar uses: a 413 would look like success to it.
    errors.PayloadTooLarge: 400,
    # Larger than any legal request: refused before it is read.
    errors.RequestTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.NotImplementedYet: 501,
    errors.StorageUnavailable: 503,
    errors.IdentityUnavailable: 503,
}

UNEXPECTED = {'title': 'Internal server error',
              'description': 'The request failed unexpectedly; its request id '
                             'identifies it in the service logs.'}


def status_for(exc: BaseException) -> int:
    """The status of an exception: its nearest class in STATUS, else 500."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_body(exc: BaseException) -> dict[str, str]:
    """``{"title", "description"}``; never internals of an unexpected error."""
    if isinstance(exc, errors.ZaqarSwiftError) and status_for(exc) != 500:
        return {'title': exc.title, 'description': exc.description}
    return dict(UNEXPECTED)


def extra_headers(status: int) -> list[tuple[str, str]]:
    """Headers an error of ``status`` carries: when to retry a 503."""
    return [('Retry-After', RETRY_AFTER)] if status == 503 else []
