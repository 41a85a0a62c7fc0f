#!/bin/bash
# The daemon takes grants back: a reload that removes an export revokes its
# grants. A program holding one (examples/03-revoke) hears why through its
# callback and then fails fast; a get running at that moment stops, says so
# and exits 5. A daemon shutdown revokes too.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

F=/mnt/dax-xfs/rv-$$ G=/mnt/dax-xfs/rv2-$$
REVOKE=$B/examples/03-revoke/revoke
truncate -s 4M $F
rand_file $G 64
data="$(export_conf data $F 4M)"
big="$(export_conf big $G 64M ro dax)"
daemon_start rv "$data

$big" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT
conf=$PWD/rv.conf
sed '/^$/q' "$conf" > header.conf

reconf() { # reconf EXPORT_SECTIONS...: rewrite the exports, SIGHUP the daemon
	{ cat header.conf; printf '%s\n\n' "$@"; } > rv.conf.new
	mv rv.conf.new "$conf"
	kill -HUP $DPID
}
wait_for() { # wait_for FILE REGEX: up to 20 s
	for _ in $(seq 200); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
grants() { $SEALMR --timeout 3000 stat --json $A/$1 2>/dev/null | jq -r .grants; }

# 1. a removed export: the callback, then EACCES with the reason.
$REVOKE $A data 60 > rv.out 2>&1 & rp=$!
ok "the example holds a grant" wait_for rv.out "holding a grant"
reconf "$big"
wait $rp
is "$?" 0 "the example saw the revoke and exited"
out=$(cat rv.out)
like "$out" "grant [0-9]+ revoked \(reason 2\): export removed by a configuration reload" \
	"the callback got reason 2 and the daemon's text"
like "$out" "a read after the revoke: Permission denied \(grant [0-9]+ revoked by the server: export removed" \
	"a later read fails fast with EACCES and the reason"
diag "$out"

# 2. a get running while its export goes: the get is held up writing to a
# pipe nobody reads until the daemon has logged the revoke, so its grant is
# revoked between two of its reads.
mkfifo go
( $SEALMR -q get $A/big - 2> get.err | { read -r _ < go; cat > /dev/null; }
  echo ${PIPESTATUS[0]} > get.rc ) & gp=$!
t0=$SECONDS
while [ $((SECONDS - t0)) -lt 15 ]; do [ "$(grants big)" = 1 ] && break; sleep 0.2; done
is "$(grants big)" 1 "the get holds a grant"
reconf "$data"
wait_for "$DLOG" "grant [0-9]+ on 'big' revoked" || diag "no revoke of the get's grant in the log after 20 s"
echo go > go
wait $gp
is "$(cat get.rc)" 5 "a get whose grant is revoked: exit 5"
like "$(cat get.err)" "^sealmr: get $A/big: grant [0-9]+ revoked by the server: export removed by a configuration reload$" \
	"and it says the grant was revoked, and why"
diag "$(cat get.err)"

# 3. a daemon shutdown revokes with reason 4.
$REVOKE $A data 60 > rv2.out 2>&1 & rp=$!
ok "the example holds a grant again" wait_for rv2.out "holding a grant"
ok "the daemon stops cleanly" daemon_stop
wait $rp
like "$(cat rv2.out)" "revoked \(reason 4\)" "a shutdown revokes with reason 4"
diag "$(cat rv2.out)"
rm -f $F $G
finish
