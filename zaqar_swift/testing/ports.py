"""Free TCP ports on 127.0.0.1 for local servers."""
from __future__ import annotations

import random
import socket


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(('127.0.0.1', port))
        except OSError:
            return False
    return True


def free_port_block(count: int, low: int = 20000, high: int = 32000) -> int:
    """First of ``count`` consecutive free ports in [low, high).

    Below 32768: ports of the ephemeral range get taken by outgoing
    connections between our check and the server's bind.
    """
    for _attempt in range(200):
        base = random.randrange(low, high - count)
        if all(port_is_free(base + i) for i in range(count)):
            return base
    raise RuntimeError('no %d consecutive free ports in [%d, %d)'
                       % (count, low, high))
