#!/bin/bash
# While sealed, nobody else can change the file's block map or name: truncate,
# hole punch, reflink onto it, rename over it, unlink, open for write all
# fail and the data stays; after release they all work. Seals count per file.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"
. "$SEALMR_TOP_SRCDIR/tests/integration/seal-lib.sh"

for m in $DAX_MOUNTS; do
	f=$m/guarded o=$m/other
	rm -f $f $o
	rand_file $f 4
	rand_file $o 1
	want=$(sha $f)
	ok "$m: sealed" st_start guard seal $f 0 4M
	like "$(attrs $f)" "i" "$m: lsattr shows the immutable flag while sealed"
	nok "$m: truncate -s 0 fails while sealed" truncate -s 0 $f
	nok "$m: fallocate --punch-hole fails while sealed" fallocate --punch-hole -o 0 -l 1M $f
	nok "$m: cp --reflink=always onto it fails while sealed" cp --reflink=always $o $f
	nok "$m: mv over it fails while sealed" mv -f $o $f
	nok "$m: rm fails while sealed" rm -f $f
	nok "$m: open O_RDWR fails while sealed" bash -c "exec 3<>$f"
	nok "$m: chmod fails while sealed" chmod 600 $f
	is "$(sha $f)" "$want" "$m: data unchanged by the attempts"
	is "$(size $f)" 4194304 "$m: size unchanged by the attempts"
	ok "$m: released" st_stop
	nok "$m: flag lifted after release" is_immutable $f
	ok "$m: open O_RDWR works after release" bash -c "exec 3<>$f"
	ok "$m: fallocate --punch-hole works after release" fallocate --punch-hole -o 0 -l 1M $f
	ok "$m: truncate works after release" truncate -s 1M $f
	if [ $m = /mnt/dax-xfs ]; then
		ok "$m: cp --reflink=always onto it works after release" cp --reflink=always $o $f
	fi
	ok "$m: mv over it works after release" mv -f $o $f
	ok "$m: rm works after release" rm -f $f

	# Two seals on one file, released in either order.
	rand_file $f 2
	for order in "0 1" "1 0"; do
		set -- $order
		ok "$m: two seals on one file (release $1 then $2)" \
			st_start two seal $f 0 1M -- $f 1M 1M
		st_cmd "release $1"
		st_wait "^released $1" 10
		ok "$m: flag stays while seal $2 lives" is_immutable $f
		st_cmd "release $2"
		st_wait "^released $2" 10
		nok "$m: flag lifted after both are released ($1 then $2)" is_immutable $f
		ok "$m: two seals: clean exit" st_stop
	done

	# A file immutable before the seal stays immutable after it.
	chattr +i $f
	ok "$m: read-only seal of an immutable file" st_start pre seal --readonly $f 0 1M
	ok "$m: read-only seal released" st_stop
	ok "$m: file immutable before stays immutable" is_immutable $f
	st_refuse 13 "$m: writable seal of a file immutable by someone else" seal $f 0 1M
	ok "$m: ... and still immutable" is_immutable $f
	chattr -i $f
	rm -f $f $o
done
finish
