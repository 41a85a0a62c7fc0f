#!/bin/bash
# sealmrd killed with SIGKILL while three clients write, 5 times (SEALMR_KILL_ROUNDS). Each
# client writes a stream of chunks, flushes each, and records "OFFSET LENGTH
# SHA256" of a chunk only after its flush returned (tests/tools/flushwriter).
# After each kill the daemon is started again on the same configuration and
# state directory: every recorded range is on the file, read straight from
# it (not through the daemon); the journal replay leaves no file immutable
# while the new daemon holds no grant; the daemon serves again.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

FW=$TOOLS/flushwriter
X=/mnt/dax-xfs/dk-$$ E=/mnt/dax-ext4/dk-$$
ROUNDS=${SEALMR_KILL_ROUNDS:-5} REGION=$((32 << 20))
truncate -s 64M $X
truncate -s 32M $E
daemon_start dk "$(export_conf x $X 64M)

$(export_conf e $E 32M)" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT CONF=$PWD/dk.conf

# Three writers: two on the xfs file, one on the ext4 file, each in its own
# 32 MiB. The file a writer's offsets are in, and its grant:
wfile=($X $X $E) wexp=(x x e) woff=(0 $REGION 0)

restart() { # restart ROUND: the same configuration and state directory
	DLOG=$PWD/dk.$1.log
	for _ in 1 2 3 4 5; do
		"$SEALMRD" -c "$CONF" > "$DLOG" 2>&1 &
		DPID=$!
		daemon_ready $DPID "$STATE/admin.sock" && return 0
		diag "round $1: sealmrd did not start:"; sed 's/^/#   /' "$DLOG"
		kill -KILL $DPID 2>/dev/null; wait $DPID 2>/dev/null
		sleep 1
	done
	return 1
}
lines() { local n; n=$(grep -cE '^[0-9]+ [0-9]+ [0-9a-f]{64}$' "$1" 2>/dev/null); echo "${n:-0}"; }

total=0 lost=0 stale=0 streaming=0 sealed_at_kill=0 lifted=0 served=0 exited=0 spot=0 spot_ok=0
for r in $(seq $ROUNDS); do
	pids=()
	for w in 0 1 2; do
		$FW $A ${wexp[w]} ${woff[w]} $REGION $((r * 10 + w)) > w$w.$r.out 2> w$w.$r.err &
		pids+=($!)
	done
	# Kill while all three are in their streams of write-and-flush.
	for _ in $(seq 900); do
		[ "$(lines w0.$r.out)" -ge 3 ] && [ "$(lines w1.$r.out)" -ge 3 ] &&
			[ "$(lines w2.$r.out)" -ge 3 ] && break
		sleep 0.1
	done
	sleep 0.$((2 + RANDOM % 7))
	[ "$(lines w0.$r.out)" -ge 3 ] && [ "$(lines w1.$r.out)" -ge 3 ] &&
		[ "$(lines w2.$r.out)" -ge 3 ] && streaming=$((streaming + 1))
	kill -KILL $DPID
	wait $DPID 2>/dev/null
	is_immutable $X && is_immutable $E && sealed_at_kill=$((sealed_at_kill + 1))
	# The writers see the daemon go and fail; their records are final then.
	for _ in $(seq 300); do
		kill -0 ${pids[0]} 2>/dev/null || kill -0 ${pids[1]} 2>/dev/null ||
			kill -0 ${pids[2]} 2>/dev/null || break
		sleep 0.1
	done
	for i in 0 1 2; do
		if kill -0 ${pids[i]} 2>/dev/null; then
			diag "round $r: writer $i still running 30 s after the daemon died"
			kill -KILL ${pids[i]}
		fi
		wait ${pids[i]} && diag "round $r: writer $i exited 0" || exited=$((exited + 1))
	done

	restart $r || break
	s=0
	for f in $X $E; do is_immutable $f && { s=$((s + 1)); diag "round $r: $f still immutable"; }; done
	stale=$((stale + s))
	grep -q "lifted the stale seal" "$DLOG" && lifted=$((lifted + 1))

	for w in 0 1 2; do
		n=$(lines w$w.$r.out)
		total=$((total + n))
		out=$($FW verify ${wfile[w]} < w$w.$r.out)
		bad=$(printf '%s\n' "$out" | sed -n 's/^[0-9]* ranges, \([0-9]*\) bad$/\1/p')
		lost=$((lost + ${bad:-$n}))
		[ "${bad:-1}" = 0 ] || { diag "round $r writer $w: $out"; sed 's/^/#   /' w$w.$r.err; }
		# Cross-check flushwriter's own reading with dd and sha256sum.
		while read -r off len want; do
			spot=$((spot + 1))
			got=$(dd if=${wfile[w]} iflag=skip_bytes,count_bytes skip=$off count=$len \
				status=none | sha256sum | cut -d' ' -f1)
			[ "$got" = "$want" ] && spot_ok=$((spot_ok + 1)) ||
				diag "round $r writer $w: dd at $off+$len: $got, flushed $want"
		done < <(grep -E '^[0-9]+ [0-9]+ [0-9a-f]{64}$' w$w.$r.out | shuf -n 3)
	done

	# Served again: a recorded range of the first writer, through a get.
	read -r off len want < <(grep -E '^[0-9]+ [0-9]+ [0-9a-f]{64}$' w0.$r.out | tail -n 1)
	if [ -n "${off:-}" ] &&
	   [ "$($SEALMR -q get $A/x@$off+$len - 2>&1 | sha256sum | cut -d' ' -f1)" = "$want" ]; then
		served=$((served + 1))
	else
		diag "round $r: a get of $off+$len after the restart did not return the flushed bytes"
	fi
done

diag "daemon kill -9: $ROUNDS rounds, $total flushed ranges, $lost lost, $stale stale seals"
like "$total" '^[1-9][0-9]*$' "$total ranges were flushed and recorded over $ROUNDS rounds"
is "$streaming" $ROUNDS "at each kill all three writers had flushed ranges and were writing on"
is "$lost" 0 "every flushed range is intact on the file after each kill and restart"
is "$spot_ok" "$spot" "dd and sha256sum agree on $spot_ok of $spot sampled ranges"
is "$sealed_at_kill" $ROUNDS "at each kill both files were sealed (immutable) by the writers' grants"
is "$stale" 0 "after each restart no file is left immutable while the daemon holds no grant"
is "$lifted" $ROUNDS "each restart's journal replay lifted the stale seals"
is "$exited" $((ROUNDS * 3)) "every writer saw the daemon die and failed"
is "$served" $ROUNDS "after each restart the daemon serves a get of a flushed range"
ok "the daemon stops cleanly" daemon_stop
nok "the xfs file is not immutable after the stop" is_immutable $X
nok "the ext4 file is not immutable after the stop" is_immutable $E
rm -f $X $E
finish
