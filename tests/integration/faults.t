#!/bin/bash
# Every named failure point of the tree (FAULT("NAME", ...) in server/,
# seal/ and client/lib/, common/fault.h) fired once, on a build configured
# with --enable-fault-injection (scripts/check's sanitizer build, so that a
# leak or a bad unwind is an ASan report that fails this test): the point
# fires, whatever failed says why (the injected errno's text, in the
# command's error or the daemon's log), the daemon keeps serving (a put and
# a get right after come back whole) or, for a failure at its start, exits
# non-zero saying why; no file is left sealed (immutable) and the journal
# is empty once the daemon stopped. A build without fault injection ignores
# SEALMR_FAULT, which this checks instead.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

X=/mnt/dax-xfs/fault-$$
truncate -s 8M $X
rand_file small 1
body="$(export_conf x $X 8M)"
named='Cannot allocate memory|Input/output error|out of memory'

if ! grep -q '^#define SEALMR_FAULT_INJECTION 1' "$B/config.h"; then
	daemon_start fault "$body" || { daemon_log; finish; }
	A=$RDMA_ADDR:$PORT
	SEALMR_FAULT=grant.reg_mr $SEALMR -q put small $A/x
	is "$?" 0 "without --enable-fault-injection SEALMR_FAULT changes nothing: put works"
	nok "and no point says it fired" grep -q 'fault injection' "$DLOG"
	ok "the daemon stops cleanly" daemon_stop
	finish
fi

points=$(cd "$S" && grep -ohE 'FAULT\("[a-z0-9_.-]+"' server/*.c seal/*.c client/lib/*.c |
	sed 's/FAULT("//; s/"$//' | sort -u)
lib_points=$(cd "$S" && grep -ohE 'FAULT\("[a-z0-9_.-]+"' client/lib/*.c |
	sed 's/FAULT("//; s/"$//' | sort -u)
diag "points: $(echo $points)"
ok "the tree has failure points in the daemon, the seal module and the library" \
	test "$(echo "$points" | wc -l)" -ge 15

# clean TAG: a put and a get with no fault: the bytes come back whole.
clean() {
	rm -f "$1.got"
	$SEALMR -q put small $A/x > "$1.cput" 2>&1 &&
		$SEALMR -q get $A/x@0+1M "$1.got" > "$1.cget" 2>&1 && [ "$(sha "$1.got")" = "$(sha small)" ]
}
# unsealed: no grant left, the file not immutable, the journal empty.
unsealed() {
	for _ in $(seq 50); do
		[ "$("$SEALMRCTL" -s "$DSOCK" stats --json | jq -r .stats.current_grants)" = 0 ] && break
		sleep 0.1
	done
	! is_immutable $X
}

walked=0 fired=0 named_ok=0 served=0 stopped=0 lifted=0
for spec in $points journal.write:2; do
	p=${spec%%:*}
	case " $(echo $lib_points) " in *" $p "*) continue ;; esac
	walked=$((walked + 1))
	if ! SEALMR_FAULT=$spec daemon_start fault "$body" 2> /dev/null; then
		# A failure at the start: sealmrd exits saying why.
		wait $DPID; rc=$?
		grep -q "fault injection: $p fails" "$DLOG" && fired=$((fired + 1)) || diag "$spec: did not fire"
		if [ $rc != 0 ] && grep -qE "$named" "$DLOG"; then
			named_ok=$((named_ok + 1)) served=$((served + 1)) stopped=$((stopped + 1))
		else
			diag "$spec: sealmrd did not start, exit $rc, its log:"; daemon_log
		fi
		DPID=
		! is_immutable $X && lifted=$((lifted + 1))
		continue
	fi
	A=$RDMA_ADDR:$PORT
	$SEALMR -q put --qps 2 small $A/x > "$p.put" 2>&1; r1=$?
	: > "$p.get"; r2=0
	"$SEALMRCTL" -s "$DSOCK" stats > "$p.ctl" 2>&1; r3=$?
	sleep 0.2
	grep -q "fault injection: $p fails" "$DLOG" && fired=$((fired + 1)) || diag "$spec: did not fire"
	if [ $r1$r2$r3 = 000 ] || cat "$p.put" "$p.get" "$p.ctl" "$DLOG" | grep -qE "$named"; then
		named_ok=$((named_ok + 1))
	else
		diag "$spec: failed ($r1 $r2 $r3) without naming the cause:"
		sed 's/^/#   /' "$p.put" "$p.get" "$p.ctl"
	fi
	diag "$spec: put $r1, get $r2, sealmrctl $r3: $(cat "$p.put" "$p.get" "$p.ctl" | grep -m1 -E "$named" | cut -c1-160)"
	clean "$p" && served=$((served + 1)) || { diag "$spec: the daemon did not serve after it:"; cat "$p.cput" "$p.cget"; }
	unsealed || diag "$spec: $X is still immutable with no grant"
	daemon_stop && stopped=$((stopped + 1)) || { diag "$spec: sealmrd did not stop cleanly:"; daemon_log; }
	# A journal write that failed at the seal's lift leaves a record the
	# next start replays: the file is not immutable either way.
	! is_immutable $X && lifted=$((lifted + 1))
done
is "$fired" "$walked" "each of the $walked failure points of the daemon and the seal module fired"
is "$named_ok" "$walked" "every failure they caused named the injected error"
is "$served" "$walked" "after each the daemon served a put and a get, byte for byte (or refused to start, saying why)"
is "$stopped" "$walked" "and stopped cleanly (exit 0)"
is "$lifted" "$walked" "and left the file unsealed"

# The library's points: in the client only, against one daemon.
daemon_start fault "$body" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT
walked=0 fired=0 named_ok=0 served=0
for p in $lib_points; do
	walked=$((walked + 1))
	# sealmr_buf_reg is the asynchronous path's: the bench takes it.
	if [ $p = buf.reg_mr ]; then
		SEALMR_FAULT=$p $SEALMR bench $A/x --op write --size 4K --depth 2 --time 0.3 > "$p.out" 2>&1
	else
		SEALMR_FAULT=$p $SEALMR put --qps 2 small $A/x > "$p.out" 2>&1
	fi
	rc=$?
	grep -q "fault injection: $p fails" "$p.out" && fired=$((fired + 1)) || diag "$p: did not fire"
	if [ $rc = 0 ] || grep -qE "$named" "$p.out"; then
		named_ok=$((named_ok + 1))
	else
		diag "$p: exit $rc without naming the cause:"; sed 's/^/#   /' "$p.out"
	fi
	diag "$p: exit $rc: $(grep -v 'fault injection' "$p.out" | head -n1 | cut -c1-160)"
	unsealed || diag "$p: a grant or the seal stayed after the client went"
	clean "$p" && served=$((served + 1)) || { diag "$p: no clean put and get after it:"; cat "$p.cput" "$p.cget"; }
done
is "$fired" "$walked" "each of the $walked failure points of the library fired"
is "$named_ok" "$walked" "every failure they caused named the injected error"
is "$served" "$walked" "the daemon served the next client, byte for byte, after each"
ok "the daemon stops cleanly" daemon_stop
nok "the file is not sealed after it" is_immutable $X
is "$(cat "$STATE/seal.journal" 2>/dev/null | grep -c /)" 0 "the journal is empty"
rm -f $X
finish
