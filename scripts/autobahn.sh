#!/usr/bin/env bash
# The Autobahn TestSuite (RFC 6455 conformance) against wsfast, both roles:
#   server role: wstest -m fuzzingclient drives `python -m wsfast echo-server`;
#   client role: wstest -m fuzzingserver is driven by scripts/autobahn_client.py.
#
# usage: scripts/autobahn.sh [--deflate] [--role both|server|client]
#                            [--allow-non-strict] [--reports DIR] [CASE ...]
#   CASE          wstest case patterns (default: 1.* ... 10.*)
#   --deflate     add the permessage-deflate cases 12.* and 13.* (slow: ~450 more)
#   --role        run one role only (default both)
#   --allow-non-strict  let NON-STRICT verdicts pass (default: they fail)
#   --skip-without-python2  exit 0, saying so, where no CPython 2.7 exists
#   --reports DIR keep the reports (servers/, clients/: index.html, index.json)
#                 in DIR; by default they go to a temp dir removed at exit
#
# Exits non-zero if any case's behavior is not OK/INFORMATIONAL or its
# behaviorClose is not OK/INFORMATIONAL, or if a role could not run.
#
# wstest needs CPython 2.7: the first run makes .venv-autobahn (gitignored)
# from pyenv's 2.7 (or $PYTHON2, or python2.7 on PATH) with the pins below.
# Environment: PYTHON2, AUTOBAHN_VENV (default .venv-autobahn), WSFAST_PYTHON
# (default .venv/bin/python), AUTOBAHN_TIMEOUT (seconds per wstest run, 1800).
set -euo pipefail
cd "$(dirname "$0")/.."

deflate=0 role=both allow_non_strict=0 skip_without_py2=0 reports_dir="" cases=()
while [ $# -gt 0 ]; do
    case $1 in
        --deflate) deflate=1 ;;
        --role) role=$2; shift ;;
        --allow-non-strict) allow_non_strict=1 ;;
        --skip-without-python2) skip_without_py2=1 ;;
        --reports) reports_dir=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) cases+=("$1") ;;
    esac
    shift
done
case $role in both|server|client) ;; *) echo "--role: both, server or client" >&2; exit 2 ;; esac
[ ${#cases[@]} -gt 0 ] || cases=("1.*" "2.*" "3.*" "4.*" "5.*" "6.*" "7.*" "8.*" "9.*" "10.*")
[ $deflate = 0 ] || cases+=("12.*" "13.*")

PY=${WSFAST_PYTHON:-.venv/bin/python}
VENV=${AUTOBAHN_VENV:-.venv-autobahn}
TIMEOUT=${AUTOBAHN_TIMEOUT:-1800}
[ -x "$PY" ] || { echo "no $PY: run scripts/test.sh (or set WSFAST_PYTHON)" >&2; exit 2; }

# --- the 2.7 virtualenv with wstest ---------------------------------------
# autobahntestsuite 25.10.1 is a py2-only wheel; these are the versions its
# own requirements.txt pins, plus the transitive ones pip picked (all wheels
# for cp27mu manylinux x86_64, or pure-Python sdists that build).
PINS='autobahntestsuite==25.10.1
autobahn[accelerate,twisted]==0.10.9
txaio==2.1.0
Twisted==19.10.0
incremental==16.10.1
zope.interface==4.6.0
pyOpenSSL==19.1.0
cryptography==3.3.2
cffi==1.15.1
pycparser==2.21
enum34==1.1.10
ipaddress==1.0.23
service-identity==18.1.0
pyasn1==0.5.1
pyasn1-modules==0.3.0
attrs==21.4.0
Automat==22.10.0
constantly==15.1.0
hyperlink==21.0.0
idna==2.10
PyHamcrest==1.10.1
Jinja2==2.11.3
MarkupSafe==1.1.1
Werkzeug==1.0.1
klein==17.10.0
unittest2==1.1.0
linecache2==1.0.0
traceback2==1.4.0
argparse==1.4.0
six==1.16.0
typing==3.10.0.0
ujson==2.0.3
wsaccel==0.6.6
setuptools==44.0.0'

find_python2() {
    if [ -n "${PYTHON2:-}" ]; then echo "$PYTHON2"; return; fi
    local root candidate
    root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
    for candidate in "$root"/versions/2.7*/bin/python2.7; do
        [ -x "$candidate" ] && { echo "$candidate"; return; }
    done
    command -v python2.7 || { echo "no CPython 2.7 (pyenv install 2.7.18, or set PYTHON2)" >&2; return 1; }
}

if ! "$VENV/bin/wstest" -a >/dev/null 2>&1; then
    if ! py2=$(find_python2); then
        [ $skip_without_py2 = 1 ] || exit 2
        echo "=== Autobahn TestSuite skipped: no CPython 2.7 on this machine"
        exit 0
    fi
    echo "=== making $VENV with $py2"
    tool=$(mktemp -d)
    # virtualenv 20.15 is the last that runs on 2.7; it is only used here.
    "$py2" -m pip install -q --disable-pip-version-check --target "$tool" 'virtualenv<20.16'
    rm -rf "$VENV"
    PYTHONPATH=$tool "$py2" -m virtualenv -q -p "$py2" "$VENV"
    rm -rf "$tool"
    printf '%s\n' "$PINS" > "$VENV/autobahn-pins.txt"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$VENV/autobahn-pins.txt"
    "$VENV/bin/wstest" -a
fi

WSTEST=$(cd "$VENV" && pwd)/bin/wstest  # absolute: the runs cd to their dir

# --- run --------------------------------------------------------------------
work=$(mktemp -d)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "$reports_dir" ] && [ -d "$work/reports" ]; then
        mkdir -p "$reports_dir" && cp -r "$work/reports/." "$reports_dir/"
        echo "reports in $reports_dir"
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cases_json=$("$PY" -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "${cases[@]}")
echo "=== cases: ${cases[*]}"
status=0

wait_for_line() {  # wait_for_line FILE REGEX SECONDS PID: print the first match
    local i line
    for ((i = 0; i < $3 * 10; i++)); do
        line=$(grep -m1 -E "$2" "$1" || true)
        [ -n "$line" ] && { echo "$line"; return 0; }
        kill -0 "$4" 2>/dev/null || break
        sleep 0.1
    done
    echo "gave up waiting for /$2/ in $1:" >&2; cat "$1" >&2; return 1
}

if [ "$role" != client ]; then
    echo "=== server role: wstest -m fuzzingclient -> wsfast echo-server"
    "$PY" -m wsfast echo-server --host 127.0.0.1 --port 0 --path '' --origin '*' \
        --max-message-size 0 > "$work/echo-server.log" 2>&1 &
    server_pid=$!
    pids+=("$server_pid")
    url=$(wait_for_line "$work/echo-server.log" 'Server starting on ws://' 30 "$server_pid" \
          | grep -oE 'ws://[0-9.]+:[0-9]+')
    cat > "$work/fuzzingclient.json" <<EOF
{"outdir": "$work/reports/servers",
 "servers": [{"agent": "wsfast", "url": "$url"}],
 "cases": $cases_json, "exclude-cases": [], "exclude-agent-cases": {}}
EOF
    start=$SECONDS
    (cd "$work" && timeout "$TIMEOUT" "$WSTEST" -m fuzzingclient \
        -s fuzzingclient.json > fuzzingclient.log 2>&1) || {
        echo "wstest fuzzingclient failed (exit $?; 124 = timeout); tail of its log:"
        tail -20 "$work/fuzzingclient.log"; status=1; }
    echo "server role took $((SECONDS - start))s"
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
fi

if [ "$role" != server ]; then
    echo "=== client role: scripts/autobahn_client.py -> wstest -m fuzzingserver"
    port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat > "$work/fuzzingserver.json" <<EOF
{"url": "ws://127.0.0.1:$port", "outdir": "$work/reports/clients",
 "cases": $cases_json, "exclude-cases": [], "exclude-agent-cases": {}}
EOF
    # -u 0: no embedded web server (it would take port 8080).
    (cd "$work" && exec timeout "$TIMEOUT" "$WSTEST" -m fuzzingserver \
        -s fuzzingserver.json -u 0 > fuzzingserver.log 2>&1) &
    fuzz_pid=$!
    pids+=("$fuzz_pid")
    wait_for_line "$work/fuzzingserver.log" 'Fuzzing Server \(Port' 60 "$fuzz_pid" >/dev/null
    start=$SECONDS
    timeout "$TIMEOUT" "$PY" scripts/autobahn_client.py --url "ws://127.0.0.1:$port" \
        --agent wsfast > "$work/client.log" 2>&1 || {
        echo "client driver failed (exit $?; 124 = timeout); tail of its log:"
        tail -20 "$work/client.log"; status=1; }
    tail -1 "$work/client.log"
    echo "client role took $((SECONDS - start))s"
    kill "$fuzz_pid" 2>/dev/null || true
    wait "$fuzz_pid" 2>/dev/null || true
fi

# --- summary ----------------------------------------------------------------
"$PY" - "$work/reports" "$role" "$allow_non_strict" <<'EOF' || status=1
import collections, json, os, sys

reports, role, allow_non_strict = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
good = {"OK", "INFORMATIONAL"} | ({"NON-STRICT"} if allow_non_strict else set())
good_close = {"OK", "INFORMATIONAL"}
kinds = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]
key = lambda case: [int(x) for x in case.split(".")]
failed = False
rows = []
for side, label in (("servers", "server"), ("clients", "client")):
    if role not in ("both", label):
        continue
    path = os.path.join(reports, side, "index.json")
    if not os.path.exists(path):
        print(f"{label} role: no {path}")
        failed = True
        continue
    with open(path) as f:
        index = json.load(f)
    results = index.get("wsfast", {})
    if not results:
        print(f"{label} role: no results for agent wsfast")
        failed = True
        continue
    count = collections.Counter(r["behavior"] for r in results.values())
    bad_close = [c for c, r in results.items() if r["behaviorClose"] not in good_close]
    bad = sorted((c for c, r in results.items()
                  if r["behavior"] not in good or r["behaviorClose"] not in good_close), key=key)
    other = sum(n for k, n in count.items() if k not in kinds)
    rows.append((label, len(results), *(count.get(k, 0) for k in kinds), other, len(bad_close)))
    if bad:
        failed = True
        print(f"{label} role, not OK ({len(bad)}):")
        for case in bad:
            r = results[case]
            print(f"  {case:<8} behavior={r['behavior']:<13} behaviorClose={r['behaviorClose']:<17}"
                  f" close={r.get('remoteCloseCode')} {r['duration']}ms")
header = ("role", "cases", *kinds, "other", "close!OK")
print()
print("  ".join(f"{h:>9}" for h in header))
for row in rows:
    print("  ".join(f"{v:>9}" for v in row))
sys.exit(1 if failed else 0)
EOF
exit $status
