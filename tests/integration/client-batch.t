#!/bin/bash
# sealmr_batch: many transfers in one call, each completing on its own, the
# bytes on the file; a batch with a bad entry stops there, saying which.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

F=/mnt/dax-xfs/batch-$$
truncate -s 8M $F
daemon_start bt "$(export_conf data $F 8M)" || { daemon_log; finish; }

out=$($TOOLS/batcher $RDMA_ADDR:$PORT data 42 2> batch.err)
is "$(sed -n 's/^write //p' <<< "$out")" "32 ok 32" \
	"a batch of 32 writes (short, page-crossing, striped): 32 taken, 32 completions of status 0"
is "$(sed -n 's/^read //p' <<< "$out")" "32 ok 32 same 32" \
	"a batch of 32 reads returns the 32 ranges as written"
is "$(sed -n 's/^badop //p' <<< "$out")" "1 entry-1" \
	"an entry with a bad op stops the batch after the first, naming entry 1"
is "$(sed -n 's/^range //p' <<< "$out")" "1 beyond" \
	"an entry past the grant stops it there too (ERANGE, 'beyond')"
[ -s batch.err ] && sed 's/^/#   /' batch.err | head -20
want=$(sed -n 's/^sha //p' <<< "$out")
daemon_stop
is $? 0 "the daemon stops cleanly"
is "$(sha $F)" "$want" "after the stop the file holds every write of the batch, zeros elsewhere"
finish
