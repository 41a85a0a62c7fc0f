#!/bin/bash
# Holes, unwritten and shared extents are dealt with before the seal, never
# by a SIGBUS later: after sealing, FIEMAP shows only written, unshared
# extents in the range, and the data that was there is still there.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"
. "$SEALMR_TOP_SRCDIR/tests/integration/seal-lib.sh"

for m in $DAX_MOUNTS; do
	# A sparse file with data in the middle: the hole is filled, the data kept.
	f=$m/sparse
	rm -f $f
	truncate -s 8M $f
	head -c 65536 /dev/urandom > chunk
	dd if=chunk of=$f bs=64k seek=16 conv=notrunc status=none # at 1 MiB
	nok "$m: sparse file is not clean before" "$ST" fiemap $f
	like "$("$ST" fiemap $f)" "^hole" "$m: sparse file: FIEMAP reports the hole"
	ok "$m: sparse file sealed" st_start sparse seal $f 0 8M
	ok "$m: sparse file is FIEMAP-clean while sealed" "$ST" fiemap $f 0 8M
	ok "$m: filefrag -v shows no unwritten extent" no_bad_extent $f
	is "$(dd if=$f bs=64k skip=16 count=1 status=none | sha256sum | cut -c1-64)" \
		"$(sha chunk)" "$m: sparse file: the existing data is preserved"
	is "$(head -c 1048576 $f | tr -d '\0' | wc -c)" 0 "$m: sparse file: the hole reads as zeros"
	ok "$m: writable through the mapping" st_cmd "write 0 4096 sealed-bytes"
	st_wait "^written 0" 10
	ok "$m: sparse file released" st_stop
	is "$(dd if=$f bs=1 skip=4096 count=12 status=none)" sealed-bytes \
		"$m: a store through the seal reached the file"
	is "$(attrs $f | grep -c i)" 0 "$m: sparse file: flag lifted after release"

	# Unwritten extents (fallocate): converted to written zeros.
	f=$m/unwritten
	rm -f $f
	fallocate -l 4M $f
	like "$("$ST" fiemap $f)" "^unwritten 4194304 bytes" "$m: fallocated file shows unwritten extents"
	ok "$m: fallocated file sealed" st_start unwritten seal $f 0 4M
	ok "$m: fallocated file is FIEMAP-clean while sealed" "$ST" fiemap $f
	ok "$m: fallocated file: filefrag -v shows no unwritten extent" no_bad_extent $f
	is "$(tr -d '\0' < $f | wc -c)" 0 "$m: fallocated file still reads as zeros"
	ok "$m: fallocated file released" st_stop

	# Short file: extended to offset + length, the old bytes kept.
	f=$m/short
	rm -f $f
	rand_file $f 1
	want=$(sha $f)
	ok "$m: short file sealed past its end" st_start short seal $f 2M 2M
	is "$(size $f)" 4194304 "$m: short file extended to offset + length"
	ok "$m: extended range is FIEMAP-clean" "$ST" fiemap $f 2M 2M
	ok "$m: short file released" st_stop
	is "$(head -c 1048576 $f | sha256sum | cut -c1-64)" "$want" "$m: short file: old data kept"

	# The mapping is 2 MiB aligned where the offset is: huge faults possible.
	f=$m/huge
	rm -f $f
	: > $f
	ok "$m: 4 MiB seal at offset 2 MiB" st_start huge seal $f 2M 4M
	like "$(grep -o 'at 0x[0-9a-f]*' "$ST_LOG")" "at 0x[0-9a-f]*[02468ace]00000$" \
		"$m: mapping address is 2 MiB aligned like the file offset"
	ok "$m: huge released" st_stop
	rm -f $m/sparse $m/unwritten $m/short $m/huge
done

# Reflinked extents on xfs: refused without --unshare (seal-refuse.t), sealed
# with it; the other copy keeps its data.
a=/mnt/dax-xfs/unshare-a b=/mnt/dax-xfs/unshare-b
rm -f $a $b
rand_file $a 2
cp --reflink=always $a $b
want=$(sha $a)
like "$("$ST" fiemap $b)" "^shared" "xfs: the reflinked copy is shared before"
ok "xfs: --unshare seals the reflinked copy" st_start unshare seal --unshare $b 0 2M
ok "xfs: unshared copy is FIEMAP-clean (no shared extent)" "$ST" fiemap $b
ok "xfs: filefrag -v agrees" no_bad_extent $b
ok "xfs: after unsharing, the original has no shared extent either" "$ST" fiemap $a
ok "xfs: store into the unshared copy" st_cmd "write 0 0 changed-copy"
st_wait "^written 0" 10
ok "xfs: unshare released" st_stop
is "$(sha $a)" "$want" "xfs: the original's data is unchanged by the store into the copy"
is "$(head -c 12 $b)" changed-copy "xfs: the copy has the store"
rm -f $a $b
finish
