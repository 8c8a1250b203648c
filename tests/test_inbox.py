"""The Inbox, where every I/O layer delivers messages: the C one against its
pure-Python twin on random sequences of operations, and its promises
(pause at max_queue, resume at a quarter, wake once, callback errors)
checked against the docstring's rules directly."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import wsfast
from wsfast import _inbox_py
from wsfast.errors import ConnectionClosed
from wsfast.seam import Inbox


class Waiter:
    """The two methods of a future the Inbox uses."""

    def __init__(self, log: list[Any], name: str, cancelled: bool = False) -> None:
        self.log, self.name, self.result = log, name, "cancelled" if cancelled else None

    def done(self) -> bool:
        return self.result is not None

    def set_result(self, value: Any) -> None:
        assert self.result is None, "set_result on a done future"
        self.result = "woken"
        self.log.append(("woken", self.name, value))


def make(cls: Any, max_queue: int) -> tuple[Any, list[Any]]:
    log: list[Any] = []
    inbox = cls(max_queue, lambda: log.append("pause"), lambda: log.append("resume"),
                lambda: log.append(("failed", repr(__import__("sys").exc_info()[1]))))
    return inbox, log


def callback(log: list[Any], kind: str) -> Any:
    def on_message(message: Any) -> None:
        log.append((kind, message))
        if message == "boom":
            raise ValueError("boom")
        if message == "closed":
            raise ConnectionClosed(1000, "")
    return on_message


MESSAGE = st.sampled_from(["a", "boom", "closed", b"b", b"", "é"])
ITEM = st.one_of(MESSAGE, st.just(("event", 1)))
OP = st.one_of(
    st.tuples(st.just("deliver"), st.lists(ITEM, max_size=6)),
    st.tuples(st.just("callback"), st.sampled_from(["first", "second", None])),
    st.tuples(st.just("wait"), st.booleans()),
    st.tuples(st.just("take"), st.integers(min_value=1, max_value=5)),
    st.tuples(st.just("close"), st.none()),
)


def run(cls: Any, max_queue: int, ops: list[Any]) -> Any:
    inbox, log = make(cls, max_queue)
    for i, (op, arg) in enumerate(ops):
        if op == "deliver":
            inbox.deliver(arg, lambda event: log.append(("event", event)))
        elif op == "callback":
            inbox.set_callback(None if arg is None else callback(log, arg))
        elif op == "wait":
            try:
                inbox.wait(Waiter(log, f"w{i}", cancelled=arg))
            except RuntimeError as exc:
                log.append(("refused", str(exc)))
        elif op == "take":
            for _ in range(arg):
                if inbox.queue:
                    log.append(("took", inbox.queue.popleft()))
            inbox.consumed()
        else:
            inbox.close()
        log.append((list(inbox.queue), inbox.paused, inbox.closed))
    return log


@pytest.mark.skipif(wsfast.IMPLEMENTATION != "c", reason="compares the C Inbox with its twin")
@given(max_queue=st.integers(min_value=1, max_value=8), ops=st.lists(OP, max_size=20))
def test_c_and_pure_inboxes_agree(max_queue: int, ops: list[Any]) -> None:
    from wsfast import _inbox
    assert run(_inbox.Inbox, max_queue, ops) == run(_inbox_py.Inbox, max_queue, ops)


def test_the_inbox_in_use_is_the_c_one_when_built() -> None:
    expected = "wsfast._inbox" if wsfast.IMPLEMENTATION == "c" else "wsfast._inbox_py"
    assert Inbox.__module__ == expected


def test_pauses_at_max_queue_and_resumes_at_a_quarter() -> None:
    inbox, log = make(Inbox, 8)
    inbox.deliver(["m"] * 7)
    assert log == [] and not inbox.paused
    inbox.deliver(["m"])
    assert log == ["pause"] and inbox.paused
    inbox.deliver(["m"] * 3)  # paused once, not once per read
    assert log == ["pause"]
    while len(inbox.queue) > 3:
        inbox.queue.popleft()
        inbox.consumed()
    assert log == ["pause"]  # 3 left: more than 8 // 4
    inbox.queue.popleft()
    inbox.consumed()
    assert log == ["pause", "resume"] and not inbox.paused


def test_a_waiting_reader_is_woken_once_and_a_second_refused() -> None:
    inbox, log = make(Inbox, 16)
    inbox.wait(Waiter(log, "first"))
    with pytest.raises(RuntimeError, match="already waiting"):
        inbox.wait(Waiter(log, "second"))
    inbox.deliver(["a"])
    inbox.deliver(["b"])
    assert log == [("woken", "first", None)] and list(inbox.queue) == ["a", "b"]
    inbox.wait(Waiter(log, "cancelled", cancelled=True))  # a cancelled reader's future
    inbox.deliver(["c"])  # is not set
    inbox.wait(Waiter(log, "third"))  # and does not block the next reader
    inbox.close()
    assert log[-1] == ("woken", "third", None)


def test_callback_gets_the_queue_first_and_its_errors_are_reported() -> None:
    inbox, log = make(Inbox, 2)
    inbox.deliver(["a", "boom"])
    assert inbox.paused
    inbox.set_callback(callback(log, "cb"))
    assert log[:2] == ["pause", ("cb", "a")]
    assert log[2] == ("cb", "boom") and log[3][0] == "failed" and "boom" in log[3][1]
    assert log[4] == "resume" and not inbox.queue
    inbox.deliver(["closed", ("event", 1), "x"], lambda e: log.append(("event", e)))
    assert log[5:] == [("cb", "closed"), ("event", ("event", 1)), ("cb", "x")]


def test_after_close_nothing_is_resumed_or_handed_to_a_new_callback() -> None:
    inbox, log = make(Inbox, 1)
    inbox.deliver(["a"])
    inbox.close()
    inbox.set_callback(callback(log, "cb"))
    inbox.queue.popleft()
    inbox.consumed()
    assert log == ["pause"] and not inbox.paused
