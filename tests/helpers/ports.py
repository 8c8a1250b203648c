"""Loopback ports for tests that need a connection refused."""
import contextlib
import socket


@contextlib.contextmanager
def refusing_port():
    """A loopback port that refuses connections for as long as the block
    runs: bound (so no other process can start listening on it, as it could
    on a port found free, or on the port of a server just closed) but not
    listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]
