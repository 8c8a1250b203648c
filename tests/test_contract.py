"""wsfast/_contract.py against csrc/wsfast.h: the error numbers the C parser
reports are the ones the Python side turns into errors, name for name."""
from __future__ import annotations

import re
from pathlib import Path

from wsfast import _contract
from wsfast.errors import InvalidUTF8, MessageTooBig, ProtocolError

HEADER = Path(__file__).resolve().parents[1] / "csrc" / "wsfast.h"


def header_errors() -> dict[str, int]:
    body = re.search(r"typedef enum \{(.*?)\} wsf_frame_error;", HEADER.read_text(), re.S)
    assert body, "wsf_frame_error not found in csrc/wsfast.h"
    found = dict((name, int(value)) for name, value in
                 re.findall(r"WSF_ERR_(\w+)\s*=\s*(\d+)", body.group(1)))
    count = found.pop("COUNT")
    assert sorted(found.values()) == list(range(1, count)), "numbers are not 1..COUNT-1"
    return found


def test_error_numbers_equal_the_headers() -> None:
    ours = {name[2:]: value for name, value in vars(_contract).items()
            if name.startswith("E_") and isinstance(value, int)}
    assert ours == header_errors()


def test_every_error_has_a_reason_and_the_right_close_code() -> None:
    for name, number in header_errors().items():
        error = _contract.frame_error(number, 1, 10, 5)
        assert error.reason and "{" not in error.reason
        if name == "INVALID_UTF8":
            assert type(error) is InvalidUTF8 and error.close_code == 1007
        elif name.endswith("TOO_BIG"):
            assert type(error) is MessageTooBig and error.close_code == 1009
        else:
            assert type(error) is ProtocolError and error.close_code == 1002
