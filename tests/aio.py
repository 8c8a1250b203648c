"""Run async tests without a plugin, each bounded in time."""
import asyncio
import functools

TEST_TIMEOUT = 20


def aio(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(asyncio.wait_for(fn(*args, **kwargs), TEST_TIMEOUT))
    return wrapper
