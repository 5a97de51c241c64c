#!/usr/bin/env bash
# Measures warden-server on a demo database (docs/PERFORMANCE.md): requests a second and latency of the
# session-validating reads under load and one at a time (wrk), successful sign-ins a second (argon2id at
# the policy's cost) and under a burst (with the session checks beside it and the peak memory), and how
# long a failed sign-in takes for an address with an account (wrong
# password) and one without (they must not differ beyond noise).
#
#   scripts/measure-server.sh <database URL>          # a database filled by `warden demo`
#
# Uses the perf build (`cargo build --profile perf -p warden-cli -p warden-server`), wrk and python3.
# The server runs in --dev mode on 127.0.0.1 with loopback as its trusted proxy (so each probe can come
# from its own forwarded address) and rate limits raised out of the way: this measures the engine, not
# the limits.
set -euo pipefail
cd "$(dirname "$0")/.."
db="${1:?usage: scripts/measure-server.sh <database URL>}"
bin=target/perf
[ -x "$bin/warden-server" ] && [ -x "$bin/warden" ] ||
  cargo build --profile perf --locked -p warden-cli -p warden-server
command -v wrk >/dev/null || { echo "measure-server: needs wrk (apt install wrk)" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() { [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$bin/warden" --db "$db" migrate >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/server.toml" <<EOF
db = "$db"
bind = "127.0.0.1:$port"
origins = ["http://bench.test"]
dev = true
trusted_proxies = ["127.0.0.1/32"]
log = "warn"

[rate_limits]
sign_in_per_ip = "1000000/1m"
sign_in_per_account = "1000000/1m"
EOF
"$bin/warden-server" --config "$work/server.toml" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

# Demo users share one password; take users without two-factor for the probes.
"$bin/warden" --db "$db" --json users list --role user --limit 500 >"$work/users.json"

BASE="http://127.0.0.1:$port" USERS="$work/users.json" OUT="$work/cookie" LUA="$work/sign-in.lua" python3 - <<'PY'
import json, os, statistics, time, urllib.request, urllib.error

base, users = os.environ["BASE"], json.load(open(os.environ["USERS"]))["users"]
plain = [u["email"] for u in users if not (u.get("totp_enabled") or u.get("locked") or u.get("disabled"))]
PASSWORD = "demo-user-password-2026"

# The wrk script for the successful sign-ins below: these users in turn, with the right password.
open(os.environ["LUA"], "w").write("local emails = {" + ",".join(json.dumps(e) for e in plain) + "}\n" + """local i = 0
request = function()
  i = i % #emails + 1
  return wrk.format("POST", "/api/auth/sign-in",
    {["Content-Type"] = "application/json", ["Origin"] = "http://bench.test"},
    '{"email":"' .. emails[i] .. '","password":""" + json.dumps(PASSWORD) + """}')
end
""")

def post(path, body, ip):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST", headers={
        "content-type": "application/json", "origin": "http://bench.test",
        "x-forwarded-for": ip, "user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"})
    t = time.perf_counter()
    try:
        r = urllib.request.urlopen(req)
        status, headers, text = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers, text = e.code, e.headers, e.read()
    return status, headers, text, (time.perf_counter() - t) * 1000

# One session to load the reads with.
status, headers, _, _ = post("/api/auth/sign-in", {"email": plain[0], "password": PASSWORD}, "203.0.113.1")
assert status == 200, status
cookie = [c.split(";")[0] for c in headers.get_all("set-cookie") if c.startswith("warden_session=")][0]
open(os.environ["OUT"], "w").write(cookie)

# Failed sign-ins, interleaved: each real account once (no lockout), each unknown address once.
n = min(150, len(plain) - 1)
real, ghost = [], []
for i in range(n):
    ip = f"198.51.{i // 250}.{i % 250 + 1}"
    s1, _, b1, t1 = post("/api/auth/sign-in", {"email": plain[i + 1], "password": "not the password at all"}, ip)
    s2, _, b2, t2 = post("/api/auth/sign-in", {"email": f"nobody{i}@nowhere.example", "password": "not the password at all"}, ip)
    assert (s1, b1) == (s2, b2), (s1, b1, s2, b2)
    real.append(t1); ghost.append(t2)
q = lambda xs, p: sorted(xs)[int(len(xs) * p)]
print(f"measure: failed sign-in, {n} each: wrong password p50 {statistics.median(real):.1f} ms p90 {q(real, .9):.1f} ms; "
      f"unknown address p50 {statistics.median(ghost):.1f} ms p90 {q(ghost, .9):.1f} ms (same status and body every time)")
PY
cookie=$(cat "$work/cookie")
# The lines of wrk's report that PERFORMANCE.md records.
wrk_summary() { grep -E "Requests/sec|^ +(50|90|99)%|Non-2xx" | sed 's/^/measure:   /'; }
for path in /api/auth/session /api/sessions; do
  echo "measure: wrk GET $path, 2 threads, 16 connections, 15 s"
  wrk -t2 -c16 -d15s --latency -H "Cookie: $cookie" "http://127.0.0.1:$port$path" | wrk_summary
done
# One connection at a time: the latency of a single request with nothing queued ahead of it.
echo "measure: wrk GET /api/auth/session, 1 thread, 1 connection, 15 s"
wrk -t1 -c1 -d15s --latency -H "Cookie: $cookie" "http://127.0.0.1:$port/api/auth/session" | wrk_summary
# Successful sign-ins, the users of the probe list in turn: each is one argon2id verification at the
# policy's cost, a new session and its audit event (and the flag checks).
echo "measure: argon2id cost in force: $("$bin/warden" --db "$db" policy show | grep -E 'argon2' | tr -s ' ' | paste -sd ';')"
echo "measure: wrk POST /api/auth/sign-in (correct password, users in turn), 2 threads, 4 connections, 15 s"
wrk -t2 -c4 -d15s --latency -s "$work/sign-in.lua" "http://127.0.0.1:$port" | wrk_summary
# A burst: 128 connections signing in at once for 15 s (each sign-in is an argon2id check), beside one
# connection checking a session. Password checks are bounded (--hash-concurrency, --hash-wait-ms): the
# burst queues or is told to retry (503), and the server's memory stays bounded; the session checks
# take no password check and keep answering.
echo "measure: burst: wrk POST /api/auth/sign-in, 2 threads, 128 connections, 15 s, beside wrk GET /api/auth/session, 1 connection"
wrk -t1 -c1 -d15s --latency -H "Cookie: $cookie" "http://127.0.0.1:$port/api/auth/session" >"$work/during.txt" &
during=$!
wrk -t2 -c128 -d15s --timeout 10s --latency -s "$work/sign-in.lua" "http://127.0.0.1:$port" | wrk_summary
wait "$during"
echo "measure:   session checks during the burst:"
wrk_summary <"$work/during.txt"
echo "measure:   server peak resident memory: $(awk '/VmHWM/ {print $2, $3}' "/proc/$server_pid/status")"
grep -iE "error|panic" "$work/server.log" | head -5 || true
