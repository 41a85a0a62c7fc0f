#!/bin/bash
# Every refusal of seal_new, with the errno MAP_DIRECT gave for it, on both
# fs-dax mounts and on the page-cache ext4: nothing may change on refusal.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"
. "$SEALMR_TOP_SRCDIR/tests/integration/seal-lib.sh"

shared=$(mktemp -d /tmp/seal-refuse.XXXXXX)
chmod 1777 "$shared"

for m in $DAX_MOUNTS /mnt/nodax; do
	f=$m/refuse
	rm -f "$f"
	rand_file "$f" 1
	before=$(sha "$f")
	mode=dax
	[ $m = /mnt/nodax ] && mode=pagecache

	st_refuse 22 "$m: private mapping" --state "$shared/s" seal --mode $mode --private "$f" 0 1M
	like "$(cat "$ST_OUT")" "private mapping" "$m: private: message says why"
	st_refuse 22 "$m: unaligned offset" seal --mode $mode "$f" 100 1M
	st_refuse 22 "$m: empty range" seal --mode $mode "$f" 0 0

	# Write access: nobody cannot open a root-owned 0644 file for write.
	chmod 0644 "$f"
	st_refuse_cmd 13 "$m: no write access (as nobody)" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$ST" --state "$shared/nobody" \
		seal --mode $mode "$f" 0 1M
	like "$(cat "$ST_OUT")" "no write access" "$m: as nobody: message names write access"
	# CAP_LINUX_IMMUTABLE: root without it.
	st_refuse_cmd 13 "$m: no CAP_LINUX_IMMUTABLE" \
		setpriv --inh-caps=-linux_immutable --bounding-set=-linux_immutable -- \
		"$ST" seal --mode $mode "$f" 0 2M
	like "$(cat "$ST_OUT")" "no CAP_LINUX_IMMUTABLE" "$m: without the capability: message names it"

	# Another writer could go on writing (and, on xfs, truncating) while sealed.
	exec 3<> "$f"
	st_refuse 16 "$m: open for write elsewhere" seal --mode $mode "$f" 0 2M
	exec 3>&-

	# More than the file system holds (1 GiB of pmem): ENOSPC, size restored.
	st_refuse 28 "$m: range larger than the file system" seal --mode $mode "$f" 0 3G
	like "$(cat "$ST_OUT")" "fallocate.*file system is full" "$m: ENOSPC: message says the file system is full"

	is "$(sha "$f")" "$before" "$m: refusals left the data alone"
	is "$(size "$f")" 1048576 "$m: refusals did not extend the file"
	nok "$m: refusals left no immutable flag" is_immutable "$f"
done

# Not on DAX: EOPNOTSUPP, with the way out, before anything is touched.
f=/mnt/nodax/refuse
st_refuse 95 "/mnt/nodax: mode dax" seal --mode dax "$f" 0 4M
like "$(cat "$ST_OUT")" "not on a DAX file system.*set mode = pagecache in the export" \
	"/mnt/nodax: mode dax: message says to use mode = pagecache"
is "$(size "$f")" 1048576 "/mnt/nodax: mode dax refusal did not extend the file"
# ext4 refuses write faults on an immutable page-cache file (SIGBUS from
# page_mkwrite): a writable page-cache seal there is guarded by a write lease
# instead, which any other open breaks; the opener waits for the seal's
# holder to notice (at most its 1 s check), and the seal reports a change.
ok "/mnt/nodax: writable page-cache seal on ext4 works" st_start rw --state "$shared/rw" seal --mode pagecache "$f" 0 1M
like "$(cat "$ST_LOG")" "guarded by a write lease instead" "/mnt/nodax: the log says a write lease guards it"
t0=$(date +%s%N)
head -c 1 "$f" > /dev/null
ms=$((($(date +%s%N) - t0) / 1000000))
diag "/mnt/nodax: a third party's open waited $ms ms for the lease to go"
ok "/mnt/nodax: a third party's open went through within 5 s" test $ms -lt 5000
st_wait '^changed' 10
like "$(grep -m1 '^changed' "$ST_OUT")" "write lease was broken" "/mnt/nodax: the broken lease is reported as a change under the seal"
ok "/mnt/nodax: leased seal released cleanly" st_stop
nok "/mnt/nodax: a leased seal never set the flag" is_immutable "$f"
ok "/mnt/nodax: read-only page-cache seal works" st_start ro --state "$shared/ro" seal --mode pagecache --readonly "$f" 0 1M
ok "/mnt/nodax: read-only seal sets the flag" is_immutable "$f"
ok "/mnt/nodax: read-only seal released cleanly" st_stop
nok "/mnt/nodax: flag lifted after release" is_immutable "$f"

# Shared (reflinked) extents: ETXTBSY unless unshare.
a=/mnt/dax-xfs/reflink-a b=/mnt/dax-xfs/reflink-b
rm -f $a $b
rand_file $a 2
cp --reflink=always $a $b
like "$(filefrag -v $b)" "shared" "xfs: the reflinked copy has shared extents"
st_refuse 26 "xfs: reflinked extents" seal $b 0 2M
like "$(cat "$ST_OUT")" "shared \(reflinked\).*unshare" "xfs: ETXTBSY message says to unshare"
nok "xfs: ETXTBSY left no flag" is_immutable $b

rm -rf "$shared" /mnt/*/refuse
finish
