#!/bin/bash
# What a client sees when the daemon or the network goes away: with the
# reconnect option libsealmr comes back after a daemon restart, re-opens its
# grant and says so, and the bytes flushed before the crash are on the file;
# without it the next operation fails with a reason. A link that goes down
# fails the client on it fast with ENETDOWN, while a client on another RDMA
# device keeps working and the daemon keeps serving.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

ms_of() { echo "$1" | awk '$1 == "ok" { print $2 } $1 == "err" { print $3 }'; }

f=/mnt/dax-xfs/failover-$$
truncate -s 16M $f
LISTEN_ADDR=0.0.0.0 daemon_start fo "[export data]
path = $f
size = 16M
access = rw
clients = 10.0.2.0/24, 10.0.3.0/24" || { echo "not ok - the daemon starts"; finish; }
conf=$PWD/fo.conf

# 1. a daemon restart under a client that asked for reconnects
holder_start re --reconnect $RDMA_ADDR:$PORT
holder_start plain $RDMA_ADDR:$PORT
like "$(ask re "open data 0 4194304")" '^ok' "a reconnecting client opens a grant"
like "$(ask plain "open data 4194304 4194304")" '^ok' "a plain client opens a grant"
like "$(ask re "write 0 1048576 11")" '^ok' "it writes and flushes 1 MiB"
kill -KILL $DPID; wait $DPID 2>/dev/null
"$SEALMRD" -c "$conf" >> "$DLOG" 2>&1 & DPID=$!
for _ in $(seq 100); do [ "$(grep -c 'listening on' "$DLOG")" = 2 ] && break; sleep 0.1; done
ok "sealmrd is back after kill -9" kill -0 $DPID
ans=$(ask re "write 1048576 1048576 12" 2> re.cb)
like "$ans" '^ok' "the reconnecting client's next write goes through"
like "$(cat re.cb)" '^reconnected 1 0' "and its reconnect callback said: 1 grant re-opened, 0 lost"
like "$(ask re "read 0 1048576 11")" '^ok' "the MiB flushed before the kill is on the file"
like "$(ask re "read 1048576 1048576 12")" '^ok' "and so is the one written after the restart"
ans=$(ask plain "write 4194304 4096 13")
like "$ans" '^err ENOTCONN .*not connected to sealmrd' "a client without the option fails with ENOTCONN and why"
diag "$ans"
echo quit >&${HIN[plain]}; wait ${HPID[plain]} 2>/dev/null

# 2. the link under rxe0 goes down; a client on a second rxe device goes on.
# (rdma_cm does not route 127.0.0.1 through rxe_lo: lo has no RoCE GID.)
ip link add sealmr-t0 type dummy
ip addr add 10.0.3.15/24 dev sealmr-t0
ip link set sealmr-t0 mtu 9000 up
rdma link add sealmr-rxe1 type rxe netdev sealmr-t0
trap 'ip link set eth0 up; rdma link delete sealmr-rxe1; ip link delete sealmr-t0' EXIT
holder_start lo 10.0.3.15:$PORT
like "$(ask lo "open data 8388608 4194304")" '^ok' "a client over a second rxe device opens a grant"
ip link set eth0 down
ans=$(ask re "write 2097152 1048576 14")
like "$ans" '^err ENETDOWN ' "a write over rxe0 with eth0 down fails with ENETDOWN"
like "$ans" 'port 1 of rxe0 is [a-zA-Z_]+: its network interface is down' "and says which port is down"
ms=$(ms_of "$ans")
diag "link down: the write failed after ${ms:-?} ms"
ok "it failed within 3 s, not after the RC retries" test "${ms:-99999}" -lt 3000
like "$(ask lo "write 0 1048576 15")" '^ok' "the client on the other device still writes and flushes"
like "$(ask lo "read 0 1048576 15")" '^ok' "and reads its bytes back"
ok "the daemon still runs" kill -0 $DPID
ip link set eth0 up
for _ in $(seq 100); do ibv_devinfo -d rxe0 | grep -q PORT_ACTIVE && break; sleep 0.1; done
like "$(ibv_devinfo -d rxe0)" 'PORT_ACTIVE' "rxe0's port is active again with eth0 up"
like "$(grep 'rxe0 port 1 is down' "$DLOG")" 'lose their connections' "the daemon logged the port going down"
echo quit >&${HIN[re]}; echo quit >&${HIN[lo]}
wait ${HPID[re]} ${HPID[lo]} 2>/dev/null
ok "the daemon stops cleanly" daemon_stop
nok "no file is left immutable" is_immutable $f
rm -f $f
# The disconnects sent while the link was down left rxe0's GSI QP (QP1) in
# the error state, and rdma_cm on rxe0 dead (rxe, kernel 7.2 and 7.3): the
# device is made anew for the tests that follow.
diag "$(rdma res show qp lqpn 1 | grep rxe0)"
rdma link delete rxe0 && rdma link add rxe0 type rxe netdev eth0
for _ in $(seq 100); do ibv_devinfo -d rxe0 2>/dev/null | grep -q PORT_ACTIVE && break; sleep 0.1; done
like "$(timeout 60 $TOOLS/daxprobe rdma /mnt/dax-xfs/failover-probe-$$ $RDMA_ADDR $(free_port) 2>&1)" '^ok$' \
	"rxe0, made anew, carries RDMA for the tests that follow"
rm -f /mnt/dax-xfs/failover-probe-$$
finish
