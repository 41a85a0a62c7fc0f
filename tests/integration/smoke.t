#!/bin/bash
# The main job, end to end, for a build the rest of the suite does not run
# against (scripts/check runs the suite on the sanitizer build and this on
# the release build in the same boot): scripts/demo's round trip, and a put
# and a get of random bytes that must come back the same and be on the
# fs-dax file after the daemon stops.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

out=$(SEALMR_BUILDDIR=$B SEALMR_DEMO_PORT=$(free_port) "$S/scripts/demo" 2>&1)
rc=$?
is "$rc" 0 "scripts/demo exits 0"
like "$out" "demo: ok: the bytes went to a persistent file" "scripts/demo says its bytes came back"
[ $rc = 0 ] || printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   demo: /'

F=/mnt/dax-ext4/smoke-$$
truncate -s 8M $F
rand_file src 8
daemon_start smoke "$(export_conf data $F 8M)" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT
ok "sealmr put of 8 MiB to an fs-dax export on ext4" $SEALMR -q put src $A/data
$SEALMR -q get $A/data@4097+12345 part
is "$(sha part)" "$(tail -c +4098 src | head -c 12345 | sha256sum | cut -d' ' -f1)" \
	"a get at an unaligned offset returns those bytes"
ok "the daemon stops cleanly" daemon_stop
is "$(sha $F)" "$(sha src)" "the file holds the bytes put, after the daemon stopped"
rm -f $F
finish
