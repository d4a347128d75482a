"""Zaqar v2 over a persistent websocket connection: a parser and a renderer
over the same core as the REST transport (``doc/design.md``)."""
