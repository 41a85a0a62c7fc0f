#!/bin/bash
# The daemon's own life: the pid file it writes is gone after a stop, also
# after reloads (which replace the configuration it was read from); with -d
# the command returns once the daemon serves, the daemon is detached (its
# own session, / as working directory, no terminal), reloads still find a
# configuration named by a relative path, and a start that fails says why
# and exits non-zero instead of vanishing in the background. A reload that
# changes what only a start takes (listen, state_dir, admin_socket,
# pid_file) says that each takes a restart and keeps serving as it was,
# while the rest of the file (a new export, max_clients) is applied.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

F=/mnt/dax-xfs/life-$$
truncate -s 4M $F
waitlog() { for _ in $(seq 100); do [ "$(grep -c "$2" "$1")" -ge "$3" ] && return 0; sleep 0.1; done; return 1; }

# 1. pid_file across two reloads and a stop.
daemon_start life "pid_file = $PWD/life.pid

$(export_conf data $F 4M)" || { daemon_log; finish; }
is "$(cat life.pid 2>/dev/null)" "$DPID" "the pid file holds the daemon's pid"
kill -HUP $DPID; waitlog "$DLOG" "reloaded:" 1
kill -HUP $DPID; waitlog "$DLOG" "reloaded:" 2
is "$(grep -c 'reloaded:' "$DLOG")" 2 "two reloads"
ok "the daemon stops cleanly after them" daemon_stop
nok "the pid file is gone after the stop" test -e life.pid
is "$(grep -ci 'pid file' "$DLOG")" 0 "and the log has no pid file complaint"

# 2. -d with a relative configuration path.
sed -e "s|^listen = .*|listen = $RDMA_ADDR:$(free_port)|" -e '/^pid_file/d' life.conf > d.conf
$SEALMRD -d -c d.conf -p $PWD/d.pid > d.out 2>&1
is "$?" 0 "sealmrd -d returns 0"
ok "the daemon answers on its admin socket as soon as -d returned" \
	"$SEALMRCTL" -s "$STATE/admin.sock" stats
pid=$(cat d.pid 2>/dev/null)
ok "the pid file names a live process" kill -0 "${pid:-0}"
is "$(ps -o sid= -p "${pid:-0}" | tr -d ' ')" "${pid:-}" "it leads its own session"
is "$(readlink /proc/${pid:-0}/cwd)" / "its working directory is /"
is "$(readlink /proc/${pid:-0}/fd/2)" /dev/null "its standard error is /dev/null"
printf '\n%s\n' "$(export_conf more $F 4M ro)" >> d.conf
kill -HUP "${pid:-0}"
for _ in $(seq 100); do "$SEALMRCTL" -s "$STATE/admin.sock" exports | grep -q '^more ' && break; sleep 0.1; done
like "$("$SEALMRCTL" -s "$STATE/admin.sock" exports)" "more +$F" \
	"a reload of the relative configuration path finds the file (a new export appears)"
kill -TERM "${pid:-0}"
for _ in $(seq 100); do kill -0 "${pid:-0}" 2>/dev/null || break; sleep 0.1; done
nok "the detached daemon stops on SIGTERM" kill -0 "${pid:-0}"
nok "and its pid file is gone" test -e d.pid

# 3. -d and a start that fails: the caller hears of it.
sed -e "s|^listen = .*|listen = 10.9.9.9:$(free_port)|" d.conf > bad.conf
out=$(timeout 60 $SEALMRD -d -c bad.conf 2>&1)
is "$?" 1 "sealmrd -d on an address this host does not have exits 1"
like "$out" "10.9.9.9|rdma_bind_addr|Cannot assign" "and says why on the caller's standard error"
diag "$out"
# 4. A reload that moves fixed settings: named, not half applied.
daemon_start fixed "pid_file = $PWD/fixed.pid
max_clients = 8

$(export_conf data $F 4M)" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT
newport=$(free_port)
sed -i -e "s|^listen = .*|listen = $RDMA_ADDR:$newport|" -e "s|^state_dir = .*|state_dir = $PWD/elsewhere|" \
	-e "s|^admin_socket = .*|admin_socket = $PWD/elsewhere/admin.sock|" \
	-e "s|^pid_file = .*|pid_file = $PWD/other.pid|" -e "s|^max_clients = .*|max_clients = 1|" fixed.conf
printf '\n%s\n' "$(export_conf later $F 4M ro)" >> fixed.conf
kill -HUP $DPID; waitlog "$DLOG" "reloaded:" 1
line=$(grep -m1 'reload: ' "$DLOG")
diag "$line"
like "$line" "listen = $RDMA_ADDR:$newport \(running: $RDMA_ADDR:$PORT\)" "the reload names the listen address it does not apply"
like "$line" "state_dir = $PWD/elsewhere \(running: $STATE\), admin_socket = $PWD/elsewhere/admin.sock \(running: $DSOCK\), pid_file = $PWD/other.pid \(running: $PWD/fixed.pid\)" \
	"and the state directory, admin socket and pid file, each with its running value"
like "$line" "take a restart of sealmrd" "and says what would apply them"
ok "the admin socket still answers where it was" "$SEALMRCTL" -s "$DSOCK" stats
nok "and none was made at the new path" test -e "$PWD/elsewhere/admin.sock"
like "$($SEALMR ls $A)" "later" "the old listen address serves the export the reload added"
holder_start one $A
is "$(ask one "open data 0 4096" | cut -d' ' -f1)" ok "one client holds a grant"
out=$($SEALMR ls $A 2>&1)
is "$?" 2 "max_clients = 1 was applied: a second client is refused while one is connected"
diag "$out"
echo quit >&${HIN[one]}; wait ${HPID[one]} 2>/dev/null
ok "the daemon stops cleanly" daemon_stop
nok "the running pid file is gone" test -e fixed.pid
rm -f $F
finish
