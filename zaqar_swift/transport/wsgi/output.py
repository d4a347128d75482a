"""Writing a response document into a Falcon response."""
from __future__ import annotations

import json as _json
from typing import Any

import falcon

JSON_TYPE = 'application/json; charset=UTF-8'


def json(resp: falcon.Response, document: Any, status: int = 200) -> None:
    """Write ``document`` as the UTF-8 JSON body of ``resp``."""
    resp.status = status
    resp.content_type = JSON_TYPE
    resp.text = _json.dumps(document, ensure_ascii=False)
