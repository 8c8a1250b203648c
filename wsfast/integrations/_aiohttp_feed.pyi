"""Types of the C ReaderLoop (wsfast/integrations/_aiohttp_feed.pyx);
_aiohttp_feed_py.py is its twin."""
from collections import deque
from typing import Any, Callable, Optional, Tuple

from wsfast.frames import FrameParser

class ResumeGate:
    protocol: Any
    reader: Any
    def __init__(self, protocol: Any, reader: Any) -> None: ...
    @property
    def _reading_paused(self) -> bool: ...
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...

class ReaderLoop:
    queue: Any
    _pending: deque[Any]
    _pending_error: Optional[BaseException]
    _exc: Optional[BaseException]
    gate: ResumeGate
    def __init__(self, queue: Any, parser: FrameParser, messages: bool, message: Any,
                 text: Any, binary: Any,
                 set_exception: Callable[[Any, BaseException], None]) -> None: ...
    def feed_eof(self) -> None: ...
    def feed_data(self, data: Any) -> Tuple[bool, bytes]: ...
