#!/bin/bash
# Every named failure point of the tree (FAULT("NAME", ...) in server/,
# seal/ and client/lib/, common/fault.h; tests/lint/fault-points.sh sees
# that every unwinding call has one) fired, on a build configured with
# --enable-fault-injection (scripts/check's sanitizer build, so that a leak
# or a bad unwind is an ASan report that fails this test): the point fires,
# whatever failed says why (the injected errno's text, in the command's
# error or the daemon's log), the daemon keeps serving (a put and a get
# after come back whole) or, for a failure at its start, exits non-zero
# saying why; no file is left sealed (immutable) and the journal is empty
# once the daemon stopped. A build without fault injection ignores
# SEALMR_FAULT, which this checks instead.
#
# The daemon's points are armed all at once (SEALMR_FAULT=a,b,...): each
# fires once, so a start that fails loses one point and the next start goes
# past it, and each client of the running daemon meets the next armed point
# of its path. The library's run one client each.
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

points_in() { # points_in DIR...
	for d in "$@"; do cat "$S/$d"/*.c; done | grep -oE 'FAULT\("[a-z0-9_.-]+"' |
		sed 's/FAULT("//; s/"$//' | sort -u
}
lib_points=$(points_in client/lib)
daemon_points=$(points_in server seal)
diag "daemon and seal module points: $(echo $daemon_points)"
diag "library points: $(echo $lib_points)"
ok "the tree has failure points in the daemon, the seal module and the library" \
	test "$(echo $daemon_points $lib_points | wc -w)" -ge 60
# fired_since FILE OFFSET: the points FILE says fired after byte OFFSET.
fired_since() { tail -c +$(($2 + 1)) "$1" | sed -n 's/.*fault injection: \([^ ]*\) fails.*/\1/p' | sort -u; }
# clean TAG: a put and a get with no fault: the bytes come back whole.
clean() {
	rm -f "$1.got"
	$SEALMR -q put small $A/x > "$1.cput" 2>&1 &&
		$SEALMR -q get $A/x@0+1M "$1.got" > "$1.cget" 2>&1 && [ "$(sha "$1.got")" = "$(sha small)" ]
}
# unsealed: no grant left, the file not immutable.
unsealed() {
	for _ in $(seq 50); do
		[ "$("$SEALMRCTL" -s "$DSOCK" stats --json | jq -r .stats.current_grants)" = 0 ] && break
		sleep 0.1
	done
	! is_immutable $X
}

# 1. The daemon's start: every point armed; each start that fails drops
#    the point that fired, and so does one that starts with a point fired
#    (a warning's path), until a start meets no armed point. A failed start
#    exits non-zero with an error that names the injected errno.
armed=" $(echo $daemon_points) "
fired=" " unnamed=0 stuck=0 starts=0 failed=0
started_err="(\[error\]|^sealmrd: ).*($named)"
while [ $starts -lt 60 ]; do
	starts=$((starts + 1))
	spec=$(echo $armed | tr ' ' ,)
	if SEALMR_FAULT=$spec daemon_start fault "pid_file = $PWD/fault.pid
$body" > /dev/null; then
		f=$(fired_since "$DLOG" 0)
		[ -z "$f" ] && break
		diag "start $starts: $(echo $f) fired, started: $(grep -m1 -E "$named" "$DLOG" | cut -c1-150)"
		daemon_stop || { stuck=1; diag "sealmrd did not stop cleanly:"; daemon_log; }
	else
		wait $DPID; rc=$?; DPID=
		failed=$((failed + 1))
		f=$(fired_since "$DLOG" 0)
		if [ -z "$f" ]; then
			diag "sealmrd did not start (exit $rc) and no point fired:"; daemon_log
			stuck=1; break
		fi
		if [ $rc = 0 ] || ! grep -qE "$started_err" "$DLOG"; then
			unnamed=$((unnamed + 1)); diag "start with $(echo $f) failing: exit $rc without an error naming it:"; daemon_log
		fi
		diag "start $starts: $(echo $f) failed it, exit $rc: $(grep -m1 -E "$started_err" "$DLOG" | cut -c1-150)"
	fi
	is_immutable $X && { stuck=1; diag "$X immutable after start $starts"; }
	for p in $f; do armed=${armed/ $p / }; fired="$fired$p "; done
done
is "$stuck" 0 "each start said which point it met, stopped cleanly and left no file sealed"
is "$unnamed" 0 "each failed start exited non-zero with an error naming the injected errno ($failed of them)"
A=$RDMA_ADDR:$PORT

# 2. Clients of the running daemon, until no point is left to fire.
idle=0 round=0
while [ $idle -lt 3 ] && [ $round -lt 80 ]; do
	round=$((round + 1))
	mark=$(stat -c %s "$DLOG")
	$SEALMR -q put --qps 2 small $A/x > r.put 2>&1; r1=$?
	f=$(fired_since "$DLOG" $mark)
	if [ -z "$f" ]; then
		idle=$((idle + 1))
		continue
	fi
	idle=0
	for p in $f; do fired="$fired$p "; done
	# The client's own message names it: its operator reads no daemon log.
	if [ $r1 != 0 ] && ! grep -qE "$named" r.put; then
		unnamed=$((unnamed + 1)); diag "round $round ($(echo $f)): put failed ($r1) without naming the cause:"
		sed 's/^/#   /' r.put
	fi
	diag "round $round: $(echo $f): put $r1: $(head -n1 r.put | cut -c1-150)"
done
missed=
for p in $daemon_points; do case "$fired" in *" $p "*) ;; *) missed="$missed $p" ;; esac; done
is "${missed:-none}" none "each of the $(echo $daemon_points | wc -w) points of the daemon and the seal module fired ($starts starts, $round clients)"
is "$unnamed" 0 "every failure they caused named the injected error"
ok "then the daemon serves a put and a get, byte for byte" clean after
ok "no grant is left and the file is not sealed" unsealed
ok "the daemon stops cleanly (exit 0: no sanitizer report)" daemon_stop
nok "the file is not sealed after it" is_immutable $X

# 3. The library's points: in the client only, against one daemon (which
#    replays any journal record a failed lift left).
daemon_start fault "$body" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT
walked=0 lfired=0 named_ok=0 served=0 lifted=0 cleans=0
for p in $lib_points; do
	walked=$((walked + 1))
	spec=$p
	case $p in
	buf.*) # sealmr_buf_new and _reg are the asynchronous path's: the bench's
		cmd=(bench $A/x --op write --size 4K --depth 2 --time 0.3) ;;
	ctrl.list*) cmd=(ls $A) ;;
	ctrl.stat) cmd=(stat $A/x) ;;
	xfer.small) cmd=(put small $A/x@100) ;;
	xfer.commit) cmd=(put --flush commit small $A/x) ;;
	xfer.user_mr) cmd=(get $A/x@0+1M $p.got) ;;
	dqp.create_qp_plain) # the retry without the extended operations
		spec=dqp.create_qp,$p cmd=(put --qps 2 small $A/x) ;;
	*) cmd=(put --qps 2 small $A/x) ;;
	esac
	SEALMR_DIRECT_MIN=4096 SEALMR_FAULT=$spec $SEALMR "${cmd[@]}" > "$p.out" 2>&1
	rc=$?
	grep -q "fault injection: $p fails" "$p.out" && lfired=$((lfired + 1)) || diag "$p: did not fire (sealmr ${cmd[0]})"
	if [ $rc = 0 ] || grep -qE "$named" "$p.out"; then
		named_ok=$((named_ok + 1))
	else
		diag "$p: exit $rc without naming the cause:"; sed 's/^/#   /' "$p.out"
	fi
	diag "$p: sealmr ${cmd[0]}: exit $rc: $(grep -v 'fault injection' "$p.out" | head -n1 | cut -c1-150)"
	unsealed && lifted=$((lifted + 1)) || diag "$p: a grant or the seal stayed after the client went"
	# The next client of the daemon is the next point's; every fourth a
	# clean put and get, whose bytes must come back whole.
	if [ $((walked % 4)) = 0 ]; then
		cleans=$((cleans + 1))
		clean "$p" && served=$((served + 1)) || { diag "$p: no clean put and get after it:"; cat "$p.cput" "$p.cget"; }
	fi
done
is "$lfired" "$walked" "each of the $walked failure points of the library fired"
is "$named_ok" "$walked" "every failure they caused named the injected error"
is "$lifted" "$walked" "after each the daemon held no grant of it and the file was not sealed"
cleans=$((cleans + 1))
clean last && served=$((served + 1)) || { diag "no clean put and get after the last:"; cat last.cput last.cget; }
is "$served" "$cleans" "the daemon served clients between them and after, byte for byte ($cleans puts and gets)"

# Atomic write and RDMA FLUSH go only to the data QPs that have them: with
# the first data QP made without the extended operations, a native flush
# goes on the second; with that one alone, it is refused, saying why.
if grep -q '^#define HAVE_DECL_IBV_WR_FLUSH 1' "$B/config.h"; then
	commits() { $SEALMR stat --json "$A/x" | jq -r .commits; }
	c0=$(commits)
	SEALMR_FAULT=dqp.create_qp $SEALMR put --qps 2 --flush native small $A/x > ext2.out 2>&1
	is "$?" 0 "one data QP of two without the extended operations: put --flush native works" ||
		sed 's/^/#   /' ext2.out
	is "$(commits)" "$c0" "... on the other one: the daemon made no commit"
	SEALMR_FAULT=dqp.create_qp $SEALMR put --qps 1 --flush native small $A/x > ext1.out 2>&1
	is "$?" 4 "the only data QP without them: put --flush native is refused"
	ok "... saying the QP has no atomic write or flush" grep -q 'cannot make a QP with atomic write' ext1.out
fi
ok "the daemon stops cleanly" daemon_stop
nok "the file is not sealed after it" is_immutable $X
is "$(cat "$STATE/seal.journal" 2>/dev/null | grep -c /)" 0 "the journal is empty"
rm -f $X
finish
