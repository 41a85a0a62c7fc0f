#!/bin/bash
# sealmr put/get round trips: 64 MiB of random bytes to fs-dax exports (xfs,
# ext4) and to a page-cache export (tmpfs), durable once put returns: after
# the daemon stops, each file holds exactly the source; a new daemon serves
# the same bytes back, whole, in slices, unaligned, to stdout. A page-cache
# file on ext4 without DAX is read-only: get works, put says why not.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

XFS=/mnt/dax-xfs/pg-$$ EXT4=/mnt/dax-ext4/pg-$$ SHM=$PWD/pg-shm NODAX=/mnt/nodax/pg-$$
truncate -s 64M $XFS $EXT4 $SHM $NODAX-rw
rand_file $NODAX-ro 64
rand_file src 64

exports="[export xfs]
path = $XFS
size = 64M
access = rw
mode = dax

[export ext4]
path = $EXT4
size = 64M
access = rw
mode = dax

[export shm]
path = $SHM
size = 64M
access = rw
mode = pagecache

[export nodax]
path = $NODAX-ro
size = 64M
access = ro
mode = pagecache

[export nodaxrw]
path = $NODAX-rw
size = 64M
access = rw
mode = pagecache"

daemon_start pg "$exports" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT
for e in xfs ext4 shm; do
	out=$($SEALMR put src $A/$e 2>&1)
	is "$?" 0 "put 64 MiB to the $e export"
	like "$out" "^put 67108864 bytes to $A/$e@0 in [0-9.]+ s, [0-9.]+ MB/s$" \
		"put to $e reports bytes and MB/s"
	diag "$out"
done
like "$($SEALMR stat --json $A/xfs | jq -r .commits)" '^[1-9][0-9]*$' \
	"stat counts the commit of the put"
out=$($SEALMR put src $A/nodaxrw 2>&1)
is "$?" 3 "put to a writable page-cache export on ext4 without DAX: exit 3"
like "$out" "^sealmr: put src: open 'nodaxrw' at $A: .*(refuses stores|read-only)" \
	"and the daemon's reason is on one line"
ok "the daemon stops cleanly" daemon_stop
for f in $XFS $EXT4 $SHM; do
	is "$(sha $f)" "$(sha src)" "$f holds the bytes put, after the daemon stopped"
done

daemon_start pg "$exports" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT
for e in xfs ext4 shm; do
	rm -f dst
	$SEALMR -q get $A/$e dst
	is "$?" 0 "get the $e export"
	is "$(sha dst)" "$(sha src)" "get from $e returns the bytes put"
done
$SEALMR -q get $A/xfs@1M+3M slice
is "$(sha slice)" "$(dd if=src bs=1M skip=1 count=3 2>/dev/null | sha256sum | cut -d' ' -f1)" \
	"get @1M+3M returns that slice"
$SEALMR -q get $A/ext4@100+5000 odd
is "$(sha odd)" "$(tail -c +101 src | head -c 5000 | sha256sum | cut -d' ' -f1)" \
	"get at an unaligned offset and length returns that slice"
is "$($SEALMR -q get $A/shm@60M - | sha256sum | cut -d' ' -f1)" \
	"$(tail -c 4M src | sha256sum | cut -d' ' -f1)" "get to stdout, from @60M to the end"
$SEALMR -q get $A/nodax dst
is "$(sha dst)" "$(sha $NODAX-ro)" "get from a read-only page-cache export on ext4"
ok "the daemon stops cleanly again" daemon_stop
rm -f $XFS $EXT4 $NODAX-ro $NODAX-rw
finish
