#!/bin/bash
# The three ways an application waits for async completions: asleep in
# poll(2) on sealmr_fd() (an event loop), in sealmr_wait(), or spinning in
# sealmr_poll() on a busy_poll connection. Each writes pages one at a time
# and reads them back; a wake-up that never comes fails within 10 s instead
# of hanging. A busy poller still hears that the daemon went away.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

WAITER=$TOOLS/waiter
F=/mnt/dax-xfs/wait-$$
truncate -s 4M $F
daemon_start wait "$(export_conf data $F 4M)" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT
for mode in fd wait spin; do
	out=$(timeout 120 $WAITER $A data $mode 256 2>&1)
	is "$?" 0 "$mode: 256 pages written and read back one at a time"
	is "$out" "ok 256" "$mode: every page read back as written"
done
is "$(od -An -tu1 -j $((255 * 4096)) -N1 $F | tr -d ' ')" $(((255 * 7 + 1) % 256)) \
	"the last page's pattern is on the file"

# A spinning client in the middle of its run while the daemon stops: it must
# fail with a reason, not spin on.
timeout 60 $WAITER $A data spin 100000 > spin.out 2>&1 &
wpid=$!
sleep 2
ok "spin: the client is still at it when the daemon stops" kill -0 $wpid
ok "the daemon stops cleanly" daemon_stop
timeout 30 tail --pid=$wpid -f /dev/null
kill -0 $wpid 2>/dev/null && { kill $wpid; diag "the spinning client was still running"; }
wait $wpid
is "$?" 3 "spin: the client fails once the daemon is gone"
like "$(cat spin.out)" "waiter: .*(closed|revoked|shutting down|not connected|connection)" \
	"spin: it says the connection went"
diag "$(cat spin.out)"
rm -f $F
finish
