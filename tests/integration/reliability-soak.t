#!/bin/bash
# 16 clients for 60 s (SEALMR_SOAK_SECONDS), each owning 1 MiB of an export
# (tests/tools/soakclient): random writes, some flushed, reads compared with
# what the client wrote, flushes, grants closed and re-opened, connections
# dropped and made again. Meanwhile reloads take the "churn" export away and
# give it back, revoking the grants of the 8 clients on it (each runs on
# until one did); the 8 clients on "steady" must not notice. No read may return other bytes than written;
# after the daemon stops, each client's range on the file is what it wrote.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

SOAK=$TOOLS/soakclient
SECONDS_SOAK=${SEALMR_SOAK_SECONDS:-60}
N=16 REGION=$((1 << 20))
SF=/mnt/dax-xfs/soak-$$ C=/mnt/dax-ext4/soak-$$
truncate -s 8M $SF $C
steady="$(export_conf steady $SF 8M)"
churn="$(export_conf churn $C 8M)"
daemon_start soak "$steady

$churn" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT CONF=$PWD/soak.conf
sed '/^$/q' "$CONF" > header.conf

reconf() { # reconf EXPORT_SECTIONS...: rewrite the exports, SIGHUP the daemon
	{ cat header.conf; printf '%s\n\n' "$@"; } > "$CONF.new"
	mv "$CONF.new" "$CONF"
	kill -HUP $DPID
}

# Clients 0-7 on steady, 8-15 on churn (revocable), 1 MiB each.
pids=()
for i in $(seq 0 $((N - 1))); do
	if [ $i -lt 8 ]; then exp=steady rev=; else exp=churn rev=revocable; fi
	$SOAK $A $exp $(( (i % 8) * REGION )) $REGION $SECONDS_SOAK $((i + 1)) $rev \
		> c$i.out 2> c$i.err &
	pids+=($!)
done

# The clients' clocks start once each has written its range.
for _ in $(seq 1200); do
	[ "$(cat c*.err 2>/dev/null | grep -c ': ready$')" -ge $N ] && break
	sleep 0.1
done
is "$(cat c*.err | grep -c ': ready$')" $N "all $N clients connected and wrote their ranges"

# Every ~10 s (~5 s on a short run) the churn export goes away for 1.5 s,
# for as long as a churn client runs (each goes on until a revoke hit it).
period=10; [ $SECONDS_SOAK -lt 40 ] && period=5
churning() { local i; for i in $(seq 8 $((N - 1))); do kill -0 ${pids[i]} 2>/dev/null && return 0; done; return 1; }
t0=$SECONDS removals=0
while sleep $period; churning; do
	reconf "$steady"
	removals=$((removals + 1))
	diag "$((SECONDS - t0)) s: reload without the churn export"
	sleep 1.5
	reconf "$steady" "$churn"
done

fails=0
for i in $(seq 0 $((N - 1))); do
	wait ${pids[i]}
	rc=$?
	[ $rc = 0 ] || { fails=$((fails + 1)); diag "client $i exited $rc:"; sed 's/^/#   /' c$i.err; }
done
ok "the daemon is still running" kill -0 $DPID
ok "the daemon stops cleanly" daemon_stop

ops=0 errors=0 verified=0 revokes=0 reopens=0 reconnects=0 steady_revokes=0 intact=0
for i in $(seq 0 $((N - 1))); do
	line=$(tail -n 1 c$i.out)
	set -- $line
	if [ "${1:-}" != ops ] || [ $# != 14 ]; then
		diag "client $i printed no summary: '$line'"
		errors=$((errors + 1))
		continue
	fi
	ops=$((ops + $2)) errors=$((errors + $4)) verified=$((verified + $6))
	revokes=$((revokes + $8)) reopens=$((reopens + ${10})) reconnects=$((reconnects + ${12}))
	[ $i -lt 8 ] && steady_revokes=$((steady_revokes + $8))
	f=$SF; [ $i -ge 8 ] && f=$C
	got=$(dd if=$f bs=1M skip=$((i % 8)) count=1 status=none | sha256sum | cut -d' ' -f1)
	if [ "$got" = "${14}" ]; then
		intact=$((intact + 1)) verified=$((verified + REGION))
	else
		diag "client $i: its range of $f is not what it wrote"
	fi
	[ $i -lt 1 ] || [ $i = 8 ] && diag "client $i: $line"
done
diag "soak: $N clients, $SECONDS_SOAK s, $ops ops, $errors errors, $verified bytes verified"
diag "soak: $reopens grant re-opens, $reconnects reconnects, $removals export removals, $revokes revoked operations"
is "$fails" 0 "all $N clients ran $SECONDS_SOAK s and exited 0"
is "$errors" 0 "no errors: no read returned other bytes than written, no unexpected failure"
like "$ops" '^[1-9][0-9]{2,}$' "$ops operations in $SECONDS_SOAK s"
is "$steady_revokes" 0 "the clients of the export the reloads left alone saw no revoke"
ok "the churn clients' grants were revoked by the $removals removals ($revokes operations)" \
	test "$revokes" -gt 0 -a "$removals" -gt 0
is "$intact" $N "after the stop, each client's range on the file is what it wrote last"
like "$(grep -c "revoked (export removed)" $DLOG)" '^[1-9]' "the daemon logged the revokes"
nok "no file is left immutable" is_immutable $SF
nok "... nor the churned one" is_immutable $C
rm -f $SF $C
finish
