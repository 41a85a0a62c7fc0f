#!/bin/bash
# Two clients writing disjoint halves of one export at the same time, each
# with its own connection and grant: both succeed, the file is both halves.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

F=/mnt/dax-xfs/cc-$$
truncate -s 32M $F
rand_file a 16
rand_file b 16
daemon_start cc "$(export_conf data $F 32M)" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT

$SEALMR -q put a $A/data@0 & pa=$!
$SEALMR -q put b $A/data@16M & pb=$!
wait $pa; is "$?" 0 "the first client's put of [0, 16M) succeeds"
wait $pb; is "$?" 0 "the second client's put of [16M, 32M) succeeds concurrently"
$SEALMR -q get $A/data both
is "$(sha both)" "$(cat a b | sha256sum | cut -d' ' -f1)" "the export holds both halves"
$SEALMR -q get $A/data@16M+16M - > b2 & ga=$!
$SEALMR -q get $A/data@0+16M a2 & gb=$!
wait $ga && wait $gb
is "$?" 0 "two concurrent gets succeed"
is "$(sha a2)$(sha b2)" "$(sha a)$(sha b)" "and return each half"
ok "the daemon stops cleanly" daemon_stop
is "$(sha $F)" "$(cat a b | sha256sum | cut -d' ' -f1)" "the file holds both halves after the stop"
rm -f $F
finish
