"""Run async tests without a plugin, each bounded in time."""
import asyncio
import functools

TEST_TIMEOUT = 20


def within(seconds):
    """Decorator: run an async test in a fresh event loop, for at most seconds."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return asyncio.run(asyncio.wait_for(fn(*args, **kwargs), seconds))
        return wrapper
    return decorate


aio = within(TEST_TIMEOUT)
