#!/bin/bash
# What a client sees when the daemon or the network goes away: with the
# reconnect option libsealmr comes back after a daemon restart, re-opens its
# grant and says so, and the bytes flushed before the crash are on the file;
# without it the next operation fails with a reason. A link that goes down
# fails the client on it fast with ENETDOWN, while clients on other RDMA
# devices keep working and the daemon keeps serving.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

ms_of() { echo "$1" | awk '$1 == "ok" { print $2 } $1 == "err" { print $3 }'; }

# Two more rxe devices, on dummy netdevs of their own, made before the daemon
# starts so that it watches their ports (rdma_cm does not route 127.0.0.1
# through rxe_lo, and a CM message sent while a link is down leaves that rxe
# device's GSI QP in the error state for good: rxe0 stays out of it).
for i in 1 2; do
	ip link add sealmr-t$i type dummy
	ip addr add 10.0.$((i + 2)).15/24 dev sealmr-t$i
	ip link set sealmr-t$i mtu 9000 up
	rdma link add sealmr-rxe$i type rxe netdev sealmr-t$i
done
cleanup() {
	for i in 1 2; do
		rdma link delete sealmr-rxe$i 2>/dev/null
		ip link delete sealmr-t$i 2>/dev/null
	done
}
at_exit cleanup

f=/mnt/dax-xfs/failover-$$
truncate -s 16M $f
LISTEN_ADDR=0.0.0.0 daemon_start fo "[export data]
path = $f
size = 16M
access = rw
clients = 10.0.2.0/24, 10.0.3.0/24, 10.0.4.0/24" || { echo "not ok - the daemon starts"; finish; }
conf=$PWD/fo.conf

# 1. a daemon restart under a client that asked for reconnects
holder_start re --reconnect $RDMA_ADDR:$PORT
holder_start plain $RDMA_ADDR:$PORT
like "$(ask re "open data 0 4194304")" '^ok' "a reconnecting client opens a grant"
like "$(ask plain "open data 4194304 4194304")" '^ok' "a plain client opens a grant"
like "$(ask re "write 0 1048576 11")" '^ok' "it writes and flushes 1 MiB"
kill -KILL $DPID; wait $DPID 2>/dev/null
"$SEALMRD" -c "$conf" >> "$DLOG" 2>&1 & DPID=$!
ok "sealmrd is back after kill -9" daemon_ready $DPID "$STATE/admin.sock"
ans=$(ask re "write 1048576 1048576 12" 2> re.cb)
like "$ans" '^ok' "the reconnecting client's next write goes through"
like "$(cat re.cb)" '^reconnected 1 0' "and its reconnect callback said: 1 grant re-opened, 0 lost"
like "$(ask re "read 0 1048576 11")" '^ok' "the MiB flushed before the kill is on the file"
like "$(ask re "read 1048576 1048576 12")" '^ok' "and so is the one written after the restart"
ans=$(ask plain "write 4194304 4096 13")
like "$ans" '^err ENOTCONN .*not connected to sealmrd' "a client without the option fails with ENOTCONN and why"
diag "$ans"
echo quit >&${HIN[plain]}; wait ${HPID[plain]} 2>/dev/null

# 2. a link under an rxe device goes down: the client on it fails fast, a
# client on another rxe device goes on.
holder_start on 10.0.3.15:$PORT
holder_start dn 10.0.4.15:$PORT
like "$(ask on "open data 8388608 4194304")" '^ok' "a client over sealmr-rxe1 opens a grant"
like "$(ask dn "open data 12582912 4194304")" '^ok' "a client over sealmr-rxe2 opens a grant"
ip link set sealmr-t2 down
ans=$(ask dn "write 0 1048576 14")
like "$ans" '^err ENETDOWN ' "a write over sealmr-rxe2 with its link down fails with ENETDOWN"
like "$ans" 'port 1 of sealmr-rxe2 is [a-zA-Z_]+: its network interface is down' "and says which port is down"
ms=$(ms_of "$ans")
diag "link down: the write failed after ${ms:-?} ms"
ok "it failed within 3 s, not after the RC retries" test "${ms:-99999}" -lt 3000
like "$(ask on "write 0 1048576 15")" '^ok' "the client on sealmr-rxe1 still writes and flushes"
like "$(ask on "read 0 1048576 15")" '^ok' "and reads its bytes back"
like "$(ask re "read 0 1048576 11")" '^ok' "and so does the client on rxe0"
ok "the daemon still runs" kill -0 $DPID
for _ in $(seq 50); do grep -q 'sealmr-rxe2 port 1 is down' "$DLOG" && break; sleep 0.1; done
like "$(grep 'sealmr-rxe2 port 1 is down' "$DLOG")" 'lose their connections' "the daemon logged the port going down"
ip link set sealmr-t2 up
for _ in $(seq 100); do ibv_devinfo -d sealmr-rxe2 | grep -q PORT_ACTIVE && break; sleep 0.1; done
like "$(ibv_devinfo -d sealmr-rxe2)" 'PORT_ACTIVE' "sealmr-rxe2's port is active again with its link up"
for h in re on dn; do echo quit >&${HIN[$h]}; done
wait ${HPID[re]} ${HPID[on]} ${HPID[dn]} 2>/dev/null
ok "the daemon stops cleanly" daemon_stop
nok "no file is left immutable" is_immutable $f
rm -f $f
finish
