"""pytest plugin for uvicorn's own WebSocket tests (scripts/uvicorn-tests.py):
adds wsfast's protocol to their ``ws_protocol_cls`` fixture and skips, with
the reason, the few tests that check another implementation's internals or a
choice of uvicorn's that wsfast makes otherwise."""
from __future__ import annotations

import pytest

PROTOCOL = "wsfast.uvicorn:WebSocketProtocol"

# Test name -> why it does not apply to wsfast's protocol as written.
ADAPTED = {
    "test_duplicate_handshake":
        "expects 1006 (uvicorn drops the TCP connection) when the app raises after "
        "accepting; wsfast closes with 1011 Internal Error, as the WebSocket close codes "
        "(RFC 6455 section 7.4.1) have it; tests/integrations/test_uvicorn.py checks it",
    "test_server_keepalive_ping_pong":
        "reads uvicorn's protocols' ping_sent_at and asserts the class is one of theirs; "
        "tests/integrations/test_uvicorn.py checks wsfast's keepalive end to end",
    "test_server_keepalive_ping_timeout":
        "asserts the protocol class is one of uvicorn's and reads its ping timers; "
        "tests/integrations/test_uvicorn.py checks the 1011 on a missing pong",
    "test_server_keepalive_disabled":
        "asserts the protocol class is one of uvicorn's and reads its ping_timer",
    "test_close_resumes_reads_paused_on_an_unconsumed_message":
        "asserts reading pauses after one unconsumed message (the websockets-sansio "
        "protocol's policy); wsfast pauses at ws_max_queue messages (32 by default) and "
        "resumes reading when the app closes (tests/integrations/test_uvicorn.py)",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        name = getattr(item, "originalname", item.name)
        if "[wsfast-" in item.nodeid and name in ADAPTED:
            item.add_marker(pytest.mark.skip(reason="wsfast: " + ADAPTED[name]))
