#!/bin/bash
# A client killed with SIGKILL in the middle of its transfers, 10 times (SEALMR_KILL_ROUNDS):
# each time the daemon gives back everything the client's connection held
# on rxe0 within a couple of seconds (the rdma resource counts return to
# what they were with the daemon alone), the killed client's grant is gone,
# its seal lifted, and the daemon serves the next client.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

F=/mnt/dax-xfs/ck-$$
ROUNDS=${SEALMR_KILL_ROUNDS:-10} LIMIT_MS=2500
rand_file $F 64
daemon_start ck "$(export_conf data $F 64M)" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT

# rxe0's counts of what the resources the daemon and its clients hold:
# "qp N mr N pd N cq N cm_id N ctx N" from `rdma resource show`.
counts() {
	rdma resource show | awk '$2 == "rxe0:" {
		for (i = 3; i < NF; i += 2) v[$i] = $(i + 1)
		printf "qp %s mr %s pd %s cq %s cm_id %s ctx %s\n", v["qp"], v["mr"], v["pd"], v["cq"], v["cm_id"], v["ctx"] }'
}
grants() { $SEALMR --timeout 5000 stat --json $A/data 2>/dev/null | jq -r '"\(.grants) \(.sealed)"'; }
ngrants() { grep -c "grant [0-9]* on 'data'" "$DLOG"; }
ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }

sleep 1
base=$(counts)
like "$base" "^qp [0-9]+ mr [0-9]+ pd [0-9]+ cq [0-9]+ cm_id [0-9]+ ctx [0-9]+$" \
	"rdma resource show gives rxe0's counts with the daemon alone: $base"
is "$(counts)" "$base" "and they hold still"

back=0 gone=0 worst=0
for r in $(seq $ROUNDS); do
	op=write; [ $((r % 2)) = 0 ] && op=read
	before=$(ngrants)
	$SEALMR -q bench $A/data --op $op --size 64K --depth 16 --time 120 > bench.out 2>&1 &
	pid=$!
	for _ in $(seq 200); do [ "$(ngrants)" -gt "$before" ] && break; sleep 0.05; done
	# Mid-transfer: a little after the grant, while bench keeps 16 ops in flight.
	sleep 0.$((2 + RANDOM % 5))
	during=$(counts)
	if ! kill -0 $pid 2>/dev/null || [ "$(ngrants)" = "$before" ] || [ "$during" = "$base" ]; then
		diag "round $r: the client was not transferring when it was to be killed"
		sed 's/^/#   bench: /' bench.out
	fi
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	t0=$(ms) now=
	while :; do
		now=$(counts)
		[ "$now" = "$base" ] && break
		[ $(( $(ms) - t0 )) -gt 10000 ] && break
		sleep 0.05
	done
	took=$(( $(ms) - t0 ))
	[ $took -gt $worst ] && worst=$took
	if [ "$now" = "$base" ] && [ $took -le $LIMIT_MS ] && [ "$during" != "$base" ]; then
		back=$((back + 1))
	else
		diag "round $r ($op): during: $during; after ${took} ms: $now; baseline: $base"
	fi
	g=$(grants)
	if [ "$g" = "0 false" ] || [ "$g" = "0 0" ]; then
		gone=$((gone + 1))
	else
		diag "round $r: after the kill, grants and seal: '$g'"
	fi
done
set -- $base
diag "client kill -9: $back of $ROUNDS rounds back to baseline (qp $2 mr $4 pd $6), slowest in $worst ms"
is "$back" $ROUNDS "after each of $ROUNDS kills mid-transfer, rxe0's qp/mr/pd/cq/cm_id/ctx counts are back to the baseline within $LIMIT_MS ms"
is "$gone" $ROUNDS "after each kill the killed client's grant is gone and the export unsealed"
nok "the file is not immutable" is_immutable $F
$SEALMR -q get $A/data@4M+1M got
cmp -s got <(tail -c +$((4 * 1048576 + 1)) $F | head -c 1M)
ok "the daemon serves a get after the $ROUNDS kills" test $? = 0
for _ in $(seq 50); do [ "$(counts)" = "$base" ] && break; sleep 0.1; done
is "$(counts)" "$base" "and the counts are back to the baseline after it"
ok "the daemon stops cleanly" daemon_stop
rm -f $F
finish
