"""Close frame payloads (RFC 6455 sections 5.5.1 and 7.4): every code path."""
import pytest

from wsfast import CloseCode, InvalidUTF8, ProtocolError, encode_close, parse_close

# Section 7.4.1 and the IANA registry: what may appear in a close frame.
SENDABLE = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
            3000, 3999, 4000, 4999]
NOT_SENDABLE = [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]


def test_close_code_names_follow_the_registry():
    assert CloseCode.NORMAL_CLOSURE == 1000
    assert CloseCode.PROTOCOL_ERROR == 1002
    assert CloseCode.NO_STATUS_RCVD == 1005
    assert CloseCode.ABNORMAL_CLOSURE == 1006
    assert CloseCode.INVALID_FRAME_PAYLOAD_DATA == 1007
    assert CloseCode.MESSAGE_TOO_BIG == 1009
    assert CloseCode.TLS_HANDSHAKE == 1015
    assert [c.value for c in CloseCode] == list(range(1000, 1016))


@pytest.mark.parametrize("code", SENDABLE)
def test_sendable_codes_round_trip(code):
    payload = encode_close(code, "bye ✓")
    assert payload == code.to_bytes(2, "big") + "bye ✓".encode()
    assert parse_close(payload) == (code, "bye ✓")


@pytest.mark.parametrize("code", NOT_SENDABLE)
def test_codes_that_may_not_be_sent(code):
    with pytest.raises(ValueError, match=f"close code {code} may not be sent"):
        encode_close(code)
    with pytest.raises(ProtocolError) as info:
        parse_close(code.to_bytes(2, "big"))
    assert info.value.close_code == 1002
    assert str(code) in info.value.reason


def test_empty_payload_is_no_status():
    assert parse_close(b"") == (1005, "")
    assert parse_close(b"")[0] is CloseCode.NO_STATUS_RCVD


def test_one_byte_payload_is_a_protocol_error():
    with pytest.raises(ProtocolError) as info:
        parse_close(b"\x03")
    assert (type(info.value), info.value.close_code) == (ProtocolError, 1002)


def test_reason_must_be_utf8():
    with pytest.raises(InvalidUTF8) as info:
        parse_close(b"\x03\xe8\xff")
    assert info.value.close_code == 1007
    with pytest.raises(InvalidUTF8):
        parse_close(b"\x03\xe8\xed\xa0\x80")  # a surrogate


def test_reason_length_limit():
    assert parse_close(encode_close(1000, "x" * 123)) == (1000, "x" * 123)
    with pytest.raises(ValueError, match="124 bytes"):
        encode_close(1000, "x" * 124)
    with pytest.raises(ValueError):
        encode_close(1000, "é" * 62)  # 124 bytes in UTF-8
    with pytest.raises(ProtocolError) as info:
        parse_close(b"\x03\xe8" + b"x" * 124)
    assert info.value.close_code == 1002


def test_parse_close_accepts_bytes_like():
    assert parse_close(bytearray(b"\x0f\xa0ok")) == (4000, "ok")
    assert parse_close(memoryview(b"\x03\xe9")) == (CloseCode.GOING_AWAY, "")
