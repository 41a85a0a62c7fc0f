#!/bin/bash
# The daemon's own life: the pid file it writes is gone after a stop, also
# after reloads (which replace the configuration it was read from); with -d
# the command returns once the daemon serves, the daemon is detached (its
# own session, / as working directory, no terminal), reloads still find a
# configuration named by a relative path, and a start that fails says why
# and exits non-zero instead of vanishing in the background.
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
rm -f $F
finish
