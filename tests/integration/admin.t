#!/bin/bash
# The admin socket and sealmrctl (server/ADMIN.md): the socket is the
# daemon's user's alone; exports, grants, clients and stats as tables and as
# JSON; a revoke by grant id, by client and by export reaches the holder
# with reason admin, and the very next RDMA operation fails, 100 times of
# 100; bad requests get errors on a connection that stays usable, a client
# that never reads holds up nobody, and RDMA clients are served throughout.
# At start a stale socket is replaced, a live one is not, missing
# directories are made; at stop the socket goes.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

PY=$(command -v /usr/bin/python3 python3 | head -n1)
REVOKE=$B/examples/03-revoke/revoke
LOOP=$TOOLS/revoke-loop
F=/mnt/dax-xfs/adm-$$ G=/mnt/dax-ext4/adm2-$$
truncate -s 4M $F
rand_file $G 4
exports="$(export_conf data $F 4M)

$(export_conf other $G 4M ro dax)"
daemon_start adm "$exports" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT
SOCK=$STATE/admin.sock

ctl() { "$SEALMRCTL" -s "$SOCK" "$@"; }
json() { # json EXPR: prints EXPR of r, the JSON document on stdin
	"$PY" -c "import json, sys; r = json.load(sys.stdin); print($1)"
}
wait_for() { # wait_for FILE REGEX: up to 20 s
	for _ in $(seq 200); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
hold() { # hold NAME EXPORT: examples/03-revoke holds a grant, output in NAME.out
	"$REVOKE" "$A" "$2" 60 > "$1.out" 2>&1 &
	eval "${1}_pid=$!"
	wait_for "$1.out" "holding a grant"
}
quiet() { "$@" > /dev/null; }

# 1. The socket.
ok "the admin socket is there" test -S "$SOCK"
is "$(stat -c %a "$SOCK")" 600 "the admin socket is mode 0600"

# 2. Exports, and the default reading of -c.
out=$(ctl exports)
like "$out" "^NAME +PATH +OFFSET +SIZE +ACCESS +MODE +SEALED +REG +GRANTS +COMMITS +CLIENTS" \
	"exports: a table with a header"
like "$out" "data +$F +0 +4M +rw +dax +no +- +0 +0 +all" "exports: 'data', not sealed yet"
like "$out" "other +$G +0 +4M +ro +dax +no" "exports: 'other', read-only"
is "$(ctl exports --json | json "[(e['name'], e['size'], e['access'], e['sealed']) for e in r['exports']]")" \
	"[('data', 4194304, 'rw', False), ('other', 4194304, 'ro', False)]" "exports --json"
is "$("$SEALMRCTL" -c "$PWD/adm.conf" exports --json | json "len(r['exports'])")" 2 \
	"-c CONFIG finds the socket through admin_socket"
{ cat adm.conf; printf '\n[export broken]\npath = not/absolute\nsize = 5000\n'; } > adm-bad.conf
is "$("$SEALMRCTL" -c "$PWD/adm-bad.conf" exports --json | json "len(r['exports'])")" 2 \
	"-c CONFIG with an export sealmrd would refuse still finds the socket (only admin_socket is read)"

# 3. A client holding a grant shows up everywhere.
ok "a client holds a grant on 'data'" hold h1 data
out=$(ctl grants)
like "$out" "^ID +CLIENT +EXPORT +OFFSET +LENGTH +ACCESS +AGE" "grants: a table with a header"
like "$out" "^[0-9]+ +$RDMA_ADDR:[0-9]+ +data +0 +4K +ro +[0-9]+s$" "grants: the holder's grant"
gj=$(ctl grants --json)
is "$(json "sorted(r['grants'][0])" <<< "$gj")" \
	"['access', 'age', 'client', 'export', 'id', 'length', 'offset', 'serial']" \
	"grants --json: id, client, export, offset, length, access, age, serial"
is "$(json "(len(r['grants']), r['grants'][0]['export'], r['grants'][0]['length'])" <<< "$gj")" \
	"(1, 'data', 4096)" "grants --json: one grant, 4096 bytes of 'data'"
id=$(json "r['grants'][0]['id']" <<< "$gj")
out=$(ctl clients)
like "$out" "^ADDRESS +SERIAL +STATE +GRANTS +QPS +AGE" "clients: a table with a header"
like "$out" "^$RDMA_ADDR:[0-9]+ +[0-9]+ +established +1 +2 +[0-9]+s$" "clients: the holder, established, 1 grant, 2 data QPs"
is "$(ctl clients --json | json "[(c['state'], c['grants']) for c in r['clients']]")" \
	"[('established', 1)]" "clients --json"
out=$(ctl stats)
like "$out" "grants +[0-9]+ \(1 now\)" "stats: 1 grant now"
like "$out" "seals +1 \(1 now\)" "stats: 1 seal taken, 1 held"
is "$(ctl stats --json | json "[r['stats'][k] for k in ('current_connections', 'current_grants', 'current_seals', 'bad_messages')]")" \
	"[1, 1, 1, 0]" "stats --json: connections, grants, seals now"
like "$(ctl exports)" "data +$F +0 +4M +rw +dax +yes +odp +1 +0 +all" "exports: 'data' sealed, 1 grant"

# 4. Revoke by grant id: the holder hears it with reason admin and fails.
is "$(ctl revoke "$id")" "revoked 1 grant" "sealmrctl revoke $id"
wait $h1_pid
is "$?" 0 "the holder saw the revoke and exited"
out=$(cat h1.out)
like "$out" "grant $id revoked \(reason 1\): revoked by the administrator" \
	"the holder's callback: reason 1 (admin)"
like "$out" "a read after the revoke: Permission denied \(grant $id revoked by the server" \
	"the holder's next read fails with EACCES"
diag "$out"
is "$(ctl grants --json | json "len(r['grants'])")" 0 "grants: none left"
out=$(ctl revoke "$id" 2>&1); rc=$?
is "$rc" 3 "revoking it again: exit 3"
is "$out" "sealmrctl: no grant $id" "... saying there is no grant $id"
out=$(ctl revoke 999999 2>&1); rc=$?
is "$rc.$out" "3.sealmrctl: no grant 999999" "revoke of an unknown grant: exit 3, no grant 999999"

# 5. Revoke by client: IP:PORT names one connection, IP all of that host.
ok "holder 2 on 'data'" hold h2 data
ok "holder 3 on 'other'" hold h3 other
addr=$(ctl grants --json | json "[g['client'] for g in r['grants'] if g['export'] == 'data'][0]")
is "$(ctl revoke --client "$addr")" "revoked 1 grant" "revoke --client $addr: its one grant"
wait $h2_pid
like "$(cat h2.out)" "revoked \(reason 1\)" "holder 2 heard it, reason 1"
is "$(ctl grants --json | json "[g['export'] for g in r['grants']]")" "['other']" \
	"holder 3's grant stays"
is "$(ctl revoke --client "$RDMA_ADDR")" "revoked 1 grant" "revoke --client $RDMA_ADDR: every connection of the host"
wait $h3_pid
like "$(cat h3.out)" "revoked \(reason 1\)" "holder 3 heard it, reason 1"
out=$(ctl revoke --client 10.9.9.9 2>&1); rc=$?
is "$rc" 3 "revoke --client of nobody: exit 3"
like "$out" "no client 10.9.9.9" "... saying so"

# 6. Revoke by export.
ok "holder 4 on 'data'" hold h4 data
ok "holder 5 on 'data'" hold h5 data
ok "holder 6 on 'other'" hold h6 other
is "$(ctl revoke --export data)" "revoked 2 grants" "revoke --export data: both its grants"
wait $h4_pid $h5_pid
is "$(cat h4.out h5.out | grep -c "revoked (reason 1)")" 2 "holders 4 and 5 heard it, reason 1"
is "$(ctl grants --json | json "[g['export'] for g in r['grants']]")" "['other']" \
	"the grant on 'other' stays"
is "$(ctl revoke --export other --json | json "r['revoked']")" 1 "revoke --export other --json"
wait $h6_pid
out=$(ctl revoke --export nope 2>&1); rc=$?
is "$rc.$out" "3.sealmrctl: no export 'nope'" "revoke --export of an unknown export: exit 3"

# 7. The first RDMA operation after a revoke fails, every time.
r0=$(ctl stats --json | json "r['stats']['revokes']")
out=$("$LOOP" "$SOCK" "$A" data 100 2> loop.err)
read -r _ rounds _ before _ failed _ remote _ lcl _ admin <<< "$out"
is "${rounds:-0}" 100 "revoke-loop ran 100 rounds"
is "${before:-0}" 100 "revoke: the read before the revoke worked, 100 of 100"
diag "revoke: first op after revoke failed ${failed:-0} of 100" \
	"(${remote:-0} with a remote access error on the wire, ${lcl:-0} refused after the REVOKE arrived;" \
	" reason admin reported ${admin:-0} of 100)"
is "${failed:-0}" 100 "revoke: first op after revoke fails, 100 of 100 tries"
[ -s loop.err ] && sed 's/^/#   /' loop.err | head -20
r1=$(ctl stats --json | json "r['stats']['revokes']")
is "$((r1 - r0))" 100 "stats: the 100 revokes counted"

# 8. Bad requests: an error each, on a connection that stays usable.
"$PY" - "$SOCK" > proto.out <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
rf = s.makefile('rb')
for line in [b'this is not json', b'{"cmd": "frobnicate"}', b'{"cmd": "revoke"}',
             b'{"cmd": "revoke", "grant": "x"}', b'{"cmd": "revoke", "grant": 1, "export": "data"}',
             b'{"cmd": "stats", "verbose": 1}', b'[1, 2]', b'{"cmd": "stats"} and more',
             b'{"cmd":', b'{"nocmd": 1}', b'x' * 10000, b'{"cmd": "stats"}']:
    s.sendall(line + b'\n')
    r = json.loads(rf.readline())
    print('ok' if r['ok'] else 'error: ' + r['error'])
PY
mapfile -t rep < proto.out
is "${#rep[@]}" 12 "12 requests, 12 replies"
like "${rep[0]:-}" "^error: not JSON" "garbage: not JSON"
is "${rep[1]:-}" "error: unknown command 'frobnicate': want exports, grants, clients, stats or revoke" \
	"an unknown command: named, with the known ones"
like "${rep[2]:-}" "^error: revoke wants exactly one of" "revoke without an argument"
like "${rep[3]:-}" "^error: \"grant\" wants a grant id" "revoke with a grant id that is a string"
like "${rep[4]:-}" "^error: revoke wants exactly one of" "revoke with two targets"
is "${rep[5]:-}" 'error: stats takes no "verbose"' "a key the command does not take"
like "${rep[6]:-}" "^error: a request is a JSON object" "JSON that is not an object"
like "${rep[7]:-}" "^error: trailing characters after the request" "trailing characters"
like "${rep[8]:-}" "^error: not JSON: the line ends inside the request" "a request cut at the newline"
like "${rep[9]:-}" "^error: the request has no \"cmd\"" "no cmd"
is "${rep[10]:-}" "error: request longer than 4096 bytes" "a 10000-byte line"
is "${rep[11]:-}" ok "after all that, the same connection answers stats"
like "$($SEALMR ls "$A" 2>&1)" "^data " "an RDMA client is served after the bad requests"

# 9. An admin client that never reads its replies holds up nobody, and
# is dropped once too much waits for it.
"$PY" - "$SOCK" 20000 30 <<'PY' & slow=$!
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"cmd": "stats"}\n' * int(sys.argv[2]))
time.sleep(int(sys.argv[3]))
PY
sleep 2
t0=$EPOCHREALTIME
ok "with 20000 replies unread by one admin client, sealmrctl stats answers" quiet timeout 5 "$SEALMRCTL" -s "$SOCK" stats
diag "sealmrctl stats took $(awk "BEGIN { printf \"%.3f\", $EPOCHREALTIME - $t0 }") s"
like "$($SEALMR ls "$A" 2>&1)" "^data " "... and so does the RDMA side"
kill $slow 2>/dev/null; wait $slow 2>/dev/null
"$PY" - "$SOCK" 100000 2 <<'PY' 2>/dev/null
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
try:
    s.sendall(b'{"cmd": "stats"}\n' * int(sys.argv[2]))
except OSError:
    pass
time.sleep(int(sys.argv[3]))
PY
ok "a client with 16 MiB of replies unread is dropped" wait_for "$DLOG" "bytes of replies unread; dropping the client"
ok "and the socket still serves" quiet ctl stats

# 10. Start and stop: the socket goes at stop; a stale one is replaced, a
# live one is left alone, missing directories are made.
ok "the daemon stops cleanly" daemon_stop
nok "the socket is gone after the stop" test -e "$SOCK"
mkdir -p adm2.state
"$PY" -c "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$PWD/adm2.state/admin.sock"
ok "a stale socket file is there" test -S adm2.state/admin.sock
daemon_start adm2 "$exports" || daemon_log
ok "the daemon replaced the stale socket and answers" quiet "$SEALMRCTL" -s "$STATE/admin.sock" stats
like "$(cat "$DLOG")" "removed the stale socket of an earlier run" "... and said so"
sed -e "s/^listen = .*/listen = $RDMA_ADDR:$(free_port)/" -e "s|^state_dir = .*|state_dir = $PWD/adm2b.state|" \
	adm2.conf > adm2b.conf
mkdir -p adm2b.state
timeout 30 "$SEALMRD" -c adm2b.conf > adm2b.log 2>&1
is "$?" 1 "a second daemon on a live admin socket: exit 1"
like "$(cat adm2b.log)" "another process answers there" "... saying another process answers there"
ok "the first daemon's socket still answers" quiet "$SEALMRCTL" -s "$STATE/admin.sock" stats
ok "the daemon stops cleanly" daemon_stop
daemon_start adm3 "admin_socket = $PWD/run/sealmr/admin.sock

$exports" || daemon_log
ok "admin_socket in directories that do not exist: made" test -S run/sealmr/admin.sock
is "$(stat -c %a run/sealmr/admin.sock)" 600 "... mode 0600"
ok "... and it answers" quiet "$SEALMRCTL" -c "$PWD/adm3.conf" stats
ok "the daemon stops cleanly" daemon_stop
rm -f $F $G
finish
