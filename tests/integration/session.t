#!/bin/bash
# Sessions (protocol version 3): the control QP carries only messages, data
# QPs join the session with its token and carry the one-sided traffic. A
# remote access error (a revoked grant's rkey) kills the data QP it met, not
# the session: the REVOKE still arrives, the other grants' operations go on
# elsewhere, and the data QP comes back.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

F=/mnt/dax-xfs/ss-$$
truncate -s 8M $F
# A second address on eth0 (rxe0): a join through it comes from another
# address than its session (rdma_cm does not route 127.0.0.1 via rxe_lo).
OTHER=10.0.2.16
ip addr add $OTHER/24 dev eth0
at_exit ip addr del $OTHER/24 dev eth0
LISTEN_ADDR=0.0.0.0 daemon_start ss "$(export_conf data $F 8M)" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT
ctl() { "$SEALMRCTL" -s "$DSOCK" "$@"; }
stat_of() { ctl stats --json | jq -r ".stats.$1"; }

# 1. Four data QPs join a put's session; the bytes land, striped over them.
rand_file in.bin 6
$SEALMR --quiet put --qps 4 in.bin $A/data@4096
is $? 0 "put --qps 4 of 6 MiB"
is "$(grep -c 'data QP [0-9]* joined' "$DLOG")" 4 "the daemon saw 4 data QPs join the put's session"
$SEALMR --quiet get --qps 3 $A/data@4096+6M out.bin
is "$(sha out.bin)" "$(sha in.bin)" "get --qps 3 returns the bytes"
is "$(dd if=$F bs=4096 skip=1 count=1536 2>/dev/null | sha256sum | cut -d' ' -f1)" \
	"$(sha in.bin)" "and they are on the file"
out=$($SEALMR put --qps 17 in.bin $A/data 2>&1); rc=$?
is "$rc.$out" "1.sealmr: --qps: '17' is not a count from 1 to 16" "--qps 17 is refused"

# 2. Join tokens: what the daemon refuses, and why.
out=$($TOOLS/rawclient $RDMA_ADDR $PORT join $OTHER 2> join.err)
is "$(sed -n 's/^forged //p' <<< "$out")" EPERM "a join with a forged token is refused: EPERM"
is "$(sed -n 's/^unknown //p' <<< "$out")" ESTALE "a join of a session never opened: ESTALE"
is "$(sed -n 's/^other-address //p' <<< "$out")" EACCES \
	"the right token from another address ($OTHER): EACCES"
is "$(sed -n 's/^good //p' <<< "$out")" ok "the right token from the session's address joins"
is "$(sed -n 's/^closed //p' <<< "$out")" ESTALE "the token of a closed session: ESTALE"
like "$(cat "$DLOG")" "wrong token for session [0-9]+" "the daemon logs a wrong token"
like "$(cat "$DLOG")" "session [0-9]+ belongs to client $RDMA_ADDR:[0-9]+, not this address" \
	"and a join from another address, naming the session's client"
[ -s join.err ] && sed 's/^/#   /' join.err

# 3. Revoke races: A revoked while reads on A and B are in flight.
c0=$(stat_of connections) j0=$(grep -c 'data QP [0-9]* joined' "$DLOG")
out=$($TOOLS/revoke-loop "$DSOCK" $A data 100 race 2> race.err)
read -r _ rounds _ cbs _ arem _ aloc _ breads _ bbad _ recon <<< "$out"
is "${rounds:-0}" 100 "revoke race: 100 rounds ran"
is "${cbs:-0}" 100 "revoke race: A's revoke callback ran once per revoke, 100 of 100"
is "${bbad:-1}" 0 "revoke race: every read of B returned B's bytes (${breads:-0} reads)"
is "${recon:-1}" 0 "revoke race: the session never reconnected"
is "$(( $(stat_of connections) - c0 ))" 1 "revoke race: one control connection throughout"
j1=$(grep -c 'data QP [0-9]* joined' "$DLOG")
diag "revoke race: A's reads failed on the wire ${arem:-0} times (each kills its data QP)," \
	" ${aloc:-0} refused by the library after the REVOKE; data QPs joined again: $((j1 - j0 - 2))"
ok "revoke race: some of A's reads met the dead rkey on the wire" test "${arem:-0}" -gt 0
[ -s race.err ] && sed 's/^/#   /' race.err | head -20

# 4. A version 1 client (one QP for everything) is still served.
out=$($TOOLS/rawclient $RDMA_ADDR $PORT v1 data 2>&1)
like "$out" "^v1 grant 64 bytes, read ok" "a version 1 client opens a grant and reads through it"

daemon_stop
is $? 0 "the daemon stops cleanly"
finish
