#!/bin/bash
# sealmr put/get round trips: 24 MiB of random bytes (a 16 MiB piece and a
# partial one) to fs-dax exports (xfs, ext4) and to a page-cache export (tmpfs), durable once put returns: after
# the daemon stops, each file holds exactly the source; a new daemon serves
# the same bytes back, whole, in slices, unaligned, to stdout. A writable
# page-cache file on ext4 without DAX is guarded by a write lease: put and
# get work, and a third party's open revokes the grant.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

XFS=/mnt/dax-xfs/pg-$$ EXT4=/mnt/dax-ext4/pg-$$ SHM=$PWD/pg-shm NODAX=/mnt/nodax/pg-$$
truncate -s 24M $XFS $EXT4 $SHM $NODAX-rw
rand_file $NODAX-ro 24
rand_file src 24
srcsha=$(sha src)

exports="$(export_conf xfs $XFS 24M)

$(export_conf ext4 $EXT4 24M)

$(export_conf shm $SHM 24M rw pagecache)

$(export_conf nodax $NODAX-ro 24M ro pagecache)

$(export_conf nodaxrw $NODAX-rw 24M rw pagecache)"

daemon_start pg "$exports" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT
for e in xfs ext4 shm nodaxrw; do
	out=$($SEALMR put src $A/$e 2>&1)
	is "$?" 0 "put 24 MiB to the $e export"
	like "$out" "^put 25165824 bytes to $A/$e@0 in [0-9.]+ s, [0-9.]+ MB/s$" \
		"put to $e reports bytes and MB/s"
	diag "$out"
done
# A build with native RDMA FLUSH makes the fs-dax puts durable without the
# daemon (flush.t); the page-cache one always takes a commit.
like "$($SEALMR stat --json $A/shm | jq -r .commits)" '^[1-9][0-9]*$' \
	"stat counts the commit of the put to the page-cache export"
ok "the daemon stops cleanly" daemon_stop
for f in $XFS $EXT4 $SHM $NODAX-rw; do
	is "$(sha $f)" "$srcsha" "$f holds the bytes put, after the daemon stopped"
done

daemon_start pg "$exports" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT
for e in xfs ext4 shm nodaxrw; do
	rm -f dst
	$SEALMR -q get $A/$e dst
	is "$?" 0 "get the $e export"
	is "$(sha dst)" "$srcsha" "get from $e returns the bytes put"
done
$SEALMR -q get $A/xfs@1M+3M slice
is "$(sha slice)" "$(dd if=src bs=1M skip=1 count=3 2>/dev/null | sha256sum | cut -d' ' -f1)" \
	"get @1M+3M returns that slice"
$SEALMR -q get $A/ext4@100+5000 odd
is "$(sha odd)" "$(tail -c +101 src | head -c 5000 | sha256sum | cut -d' ' -f1)" \
	"get at an unaligned offset and length returns that slice"
is "$($SEALMR -q get $A/shm@20M - | sha256sum | cut -d' ' -f1)" \
	"$(tail -c 4M src | sha256sum | cut -d' ' -f1)" "get to stdout, from @20M to the end"
$SEALMR -q get $A/nodax dst
is "$(sha dst)" "$(sha $NODAX-ro)" "get from a read-only page-cache export on ext4"
# A grant held on the leased file; a third party opens it.
holder_start lh $A
like "$(ask lh "open nodaxrw 0 1048576")" '^ok' "a client holds a grant on the leased file"
like "$(ask lh "write 0 65536 21")" '^ok' "and writes through it"
t0=$(date +%s%N)
head -c 1 $NODAX-rw > /dev/null
ms=$((($(date +%s%N) - t0) / 1000000))
diag "a third party's open of the leased file waited $ms ms"
ok "a third party's open of the leased file goes through within 5 s" test $ms -lt 5000
ans=$(ask lh "read 0 65536 21" 2> lh.cb)
like "$ans" '^err EACCES .*revoked' "the grant is revoked: the next read fails with EACCES"
like "$(cat lh.cb)" '^revoked 3 .*write lease was broken' "and the revoke says why (reason 3, file changed)"
echo quit >&${HIN[lh]}; wait ${HPID[lh]}
ok "the daemon stops cleanly again" daemon_stop
rm -f $XFS $EXT4 $NODAX-ro $NODAX-rw
finish
