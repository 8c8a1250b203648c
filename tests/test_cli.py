"""The command line, run as a user would: separate processes on loopback."""
import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from helpers.ports import refusing_port

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
WSFAST = [sys.executable, "-m", "wsfast"]


def run(*args, timeout=60):
    return subprocess.run([*WSFAST, *args], capture_output=True, text=True, timeout=timeout,
                          env=ENV)


@contextlib.contextmanager
def serving(*options):
    """``wsfast echo-server --port 0 *options``: (its port, its process)."""
    # Port 0: the server binds a free port itself and says which. A port
    # found free beforehand could be taken by another process before the
    # server binds it.
    proc = subprocess.Popen([*WSFAST, "echo-server", "--port", "0", *options],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)
    try:
        # A pure-Python install on CPython warns once at import (on stderr,
        # merged here) before the server says it is starting.
        seen = ""
        for _ in range(20):
            line = proc.stdout.readline()
            seen += line
            if not line or "Server starting on ws" in line:
                break
        found = re.search(r"Server starting on wss?://127\.0\.0\.1:(\d+)/", seen)
        assert found, seen
        yield int(found.group(1)), proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()


@pytest.fixture
def echo_server():
    with serving() as server:
        yield server


def stopped(server):
    """Stop the server process (Ctrl-C); what it printed."""
    server.send_signal(signal.SIGINT)
    return server.communicate(timeout=10)[0]


def test_demo():
    result = run("demo", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "sent and got back κόσμε" in result.stdout
    assert "sent and got back <1048576 bytes of binary>" in result.stdout
    assert "closed: code 1000" in result.stdout
    assert "masking 1 MiB:" in result.stdout


def test_client_against_echo_server(echo_server):
    port, server = echo_server
    result = run("client", f"ws://127.0.0.1:{port}/echo", "--interval", "0.05", "--count", "3")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("Received from server:") == 3
    assert "Closed: 1000" in result.stderr
    server.send_signal(signal.SIGINT)
    out, _ = server.communicate(timeout=10)
    assert server.returncode == 0
    assert "Client connected from" in out
    assert out.count("Received message:") == 3
    assert "Client disconnected (close code 1000" in out


def test_client_ctrl_c_closes_cleanly(echo_server):
    port, server = echo_server
    client = subprocess.Popen([*WSFAST, "client", f"ws://127.0.0.1:{port}/echo",
                               "--interval", "0.1"], stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        deadline = time.monotonic() + 20
        seen = ""
        while "Received from server" not in seen and time.monotonic() < deadline:
            seen += client.stderr.readline()
        client.send_signal(signal.SIGINT)
        rest = client.communicate(timeout=10)[1]
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    assert client.returncode == 0
    assert "Interrupt received, closing connection." in rest
    assert "Closed: 1000" in rest


def test_connection_refused():
    with refusing_port() as port:
        result = run("client", f"ws://127.0.0.1:{port}/echo", "--count", "1")
    assert result.returncode == 1
    assert "cannot connect" in result.stderr


@pytest.mark.parametrize("url", ["http://127.0.0.1/echo", "ws://", "not a url"])
def test_bad_url(url):
    result = run("client", url, "--count", "1")
    assert result.returncode == 2
    assert "ERROR" not in result.stdout
    assert result.stderr.strip()


def test_handshake_failure_shows_status(echo_server):
    port, _ = echo_server
    result = run("client", f"ws://127.0.0.1:{port}/wrong-path", "--count", "1")
    assert result.returncode == 1
    assert "Handshake failed: HTTP 404" in result.stderr


def test_origins_allowed_by_option_and_the_hint_for_a_refused_one():
    with serving("--origin", "http://app.example") as (port, server):
        url = f"ws://127.0.0.1:{port}/echo"
        allowed = run("client", url, "--origin", "http://app.example", "--count", "1",
                      "--interval", "0.05")
        refused = run("client", url, "--origin", "http://other.example", "--count", "1")
        out = stopped(server)
    assert allowed.returncode == 0, allowed.stderr
    assert "Received from server:" in allowed.stderr
    assert refused.returncode == 1
    assert "Handshake failed: HTTP 403" in refused.stderr
    assert "'http://other.example' is not allowed (--origin ORIGIN allows it" in out


def test_any_origin_no_compression_subprotocol_and_message_limit():
    from wsfast.asyncio import connect

    async def exchange(port):
        async with connect(f"ws://127.0.0.1:{port}/echo", origin="http://anywhere.example",
                           subprotocols=["other", "chat"]) as ws:
            assert ws.subprotocol == "chat"
            assert "permessage-deflate" not in (ws.response.headers.get(
                "Sec-WebSocket-Extensions") or "")
            await ws.send(b"x" * 100)
            assert await ws.recv() == b"x" * 100
            await ws.send(b"x" * 101)
            await ws.wait_closed()
            return ws.close_code

    with serving("--origin", "*", "--no-compression", "--subprotocol", "chat",
                 "--max-message-size", "100") as (port, server):
        code = asyncio.run(asyncio.wait_for(exchange(port), 20))
        stopped(server)
    assert code == 1009


def test_tls_server_and_client(tmp_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    with serving("--tls-cert", str(tmp_path / "server.pem")) as (port, server):
        url = f"wss://127.0.0.1:{port}/echo"
        trusted = run("client", url, "--cafile", str(tmp_path / "ca.pem"), "--count", "1",
                      "--interval", "0.05")
        insecure = run("client", url, "--insecure", "--count", "1", "--interval", "0.05")
        untrusted = run("client", url, "--count", "1")
        stopped(server)
    for result in (trusted, insecure):
        assert result.returncode == 0, result.stderr
        assert "Received from server:" in result.stderr
    assert untrusted.returncode == 1
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
