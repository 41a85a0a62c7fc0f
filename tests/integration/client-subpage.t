#!/bin/bash
# Sub-page I/O (proto/PROTOCOL.md, version 2). On rxe the daemon's GRANTs
# say "page placement" for ODP exports: the bytes of a transfer before its
# first page boundary go to the daemon as WRITE_SMALL/READ_SMALL, which
# touch only those bytes, and the rest stays one-sided. Two writers sharing
# every page they write, sync and async, lose nothing of each other's and
# read nothing misplaced; unaligned puts and gets of any size work; a
# client of protocol version 1 is still served, and has no small messages.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

PM=$TOOLS/pagemix
X=/mnt/dax-xfs/sp-$$ E=/mnt/dax-ext4/sp-$$ S=/mnt/dax-xfs/sp-span-$$
PAGES=20 ROUNDS=${SEALMR_SUBPAGE_ROUNDS:-50}
truncate -s 1M $X $E $S
daemon_start sp "$(export_conf x $X 1M)

$(export_conf e $E 1M)

$(export_conf s $S 1M)" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT
small() { "$SEALMRCTL" -s "$DSOCK" stats --json | jq -r ".stats.small_$1"; }

# Two writers on the same 20 pages: bytes 100..1099 of each page are one's,
# 2100..3099 the other's; each writes, reads back and compares, $ROUNDS times.
for mode in sync async; do
	f=$X exp=x; [ $mode = async ] && f=$E exp=e
	$PM $A $exp $mode 100 1000 $PAGES $ROUNDS 1 > $mode-a.out 2>&1 & pa=$!
	$PM $A $exp $mode 2100 1000 $PAGES $ROUNDS 2 > $mode-b.out 2>&1 & pb=$!
	wait $pa; ra=$?
	wait $pb; rb=$?
	is "$ra:$(cat $mode-a.out)" "0:ok $ROUNDS" \
		"$mode: writer A (bytes 100..1099 of each page) read back its bytes every round"
	is "$rb:$(cat $mode-b.out)" "0:ok $ROUNDS" \
		"$mode: writer B (bytes 2100..3099 of the same pages) read back its bytes every round"
done
# One writer whose transfers start mid-page and run over two more pages:
# the head through the daemon, the rest one-sided, one completion a call.
$PM $A s async 100 10000 8 5 3 > span.out 2>&1
is "$?:$(cat span.out)" "0:ok 5" "async: 10000-byte transfers from mid-page read back right"
w=$(small writes) r=$(small reads)
diag "the daemon served $w small writes and $r small reads"
like "$w" '^[1-9][0-9]*$' "the unaligned bytes went to the daemon as small writes"
like "$r" '^[1-9][0-9]*$' "and came back as small reads"
like "$(grep -m1 'protocol version 4' "$DLOG")" "page placement" \
	"the daemon logs the connection's version and its device's page placement"
# Found by the daemon's own loopback test on rxe0, not by its name.
like "$(grep -m1 'placement self-test' "$DLOG")" \
	"rxe0: placement self-test: a WRITE to offset 1000 of an ODP page landed at its page's start \(page placement\)" \
	"the daemon's self-test at start saw rxe0 put a mid-page WRITE at the page's start"

# Unaligned sync transfers through the command, of sizes around a page.
rand_file src 1
for spec in 1:1 4095:2 4097:4096 5000:6000 12345:100000; do
	off=${spec%:*} len=${spec#*:}
	head -c $len src > piece
	$SEALMR -q put piece $A/x@$((512 * 1024 + off)) 2> put.err
	is "$?" 0 "put of $len bytes at +$off (512 KiB in)"
	$SEALMR -q get $A/x@$((512 * 1024 + off))+$len back 2> get.err
	is "$(sha back)" "$(sha piece)" "get of $len bytes at +$off returns them"
done

# Version 1: served as before, refused what it does not have.
like "$($TOOLS/rawclient $RDMA_ADDR $PORT v1 x)" "^v1 grant 64 bytes, read ok, small EPROTO$" \
	"a version 1 client gets a 64-byte GRANT, reads through it, and a WRITE_SMALL is EPROTO"

ok "the daemon stops cleanly" daemon_stop
is "$($PM verify $X $PAGES $ROUNDS 100:1000:1 2100:1000:2)" "0 bytes wrong" \
	"sync: after the stop, every page holds both writers' last bytes and zeros between"
is "$($PM verify $E $PAGES $ROUNDS 100:1000:1 2100:1000:2)" "0 bytes wrong" \
	"async: likewise on ext4"
is "$($PM verify $S 8 5 100:10000:3)" "0 bytes wrong" \
	"async spanning pages: each block holds the last bytes and zeros around them"
# The puts' bytes are on the file too, read straight from it.
for spec in 12345:100000; do
	off=${spec%:*} len=${spec#*:}
	is "$(dd if=$X iflag=skip_bytes,count_bytes skip=$((512 * 1024 + off)) count=$len status=none | sha256sum | cut -d' ' -f1)" \
		"$(head -c $len src | sha256sum | cut -d' ' -f1)" "the last put's bytes are on the file"
done
rm -f $X $E $S
finish
