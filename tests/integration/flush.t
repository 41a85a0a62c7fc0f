#!/bin/bash
# Native RDMA FLUSH against the commit. A build on an rdma-core with
# ibv_wr_flush (configure --with-rdma-core, scripts/rdma-core) loads that
# rdma-core's libibverbs and rxe provider, offers "flush: commit native" on
# fs-dax exports and only the commit on page-cache and read-only ones; a put
# whose native flush returned is on the file after the daemon's SIGKILL, 20
# rounds of 20, and cost the daemon no commit; a native flush the grant does
# not offer (page-cache export, read-only grant, past the grant's end) is
# refused, naming why, with nothing written. A build on Debian 12's
# rdma-core 44 never offers it and refuses --flush native, naming the
# missing ibv_wr_flush.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

FW=$TOOLS/flushwriter
X=/mnt/dax-xfs/fl-$$ E=/mnt/dax-ext4/fl-$$ N=/mnt/nodax/fl-$$ R=/mnt/dax-xfs/flro-$$
truncate -s 16M $X $E $N
truncate -s 4M $R
native=no
grep -q '^#define HAVE_DECL_IBV_WR_FLUSH 1' "$B/config.h" && native=yes
prefix=$(sed -n 's/^RDMA_CORE_PREFIX = //p' "$B/Makefile")
diag "build: ibv_wr_flush $native, rdma-core ${prefix/#no/the system\'s}"

body="$(export_conf x $X 16M)

$(export_conf e $E 16M)

$(export_conf n $N 16M rw pagecache)

$(export_conf r $R 4M ro)"
daemon_start fl "$body" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT

# Whose rdma-core: the daemon's log names the libibverbs and the provider
# it loaded; ldd names libsealmr's.
libs=$(grep -m1 'rdma-core: ' "$DLOG")
diag "$libs"
if [ "$prefix" != no ]; then
	p=$(cd "$prefix" && pwd -P)
	like "$libs" "rdma-core: $p/lib[^ ]*/libibverbs\.so[.0-9]*, provider $p/lib[^ ]*/libibverbs/librxe-rdmav[0-9]+\.so" \
		"sealmrd loaded the prefix's libibverbs and rxe provider, not the system's"
	like "$(ldd "$B/client/.libs/libsealmr.so" | grep libibverbs)" "=> $p/lib" \
		"libsealmr links the prefix's libibverbs (rpath)"
else
	like "$libs" "rdma-core: /(usr/)?lib/[^ ]*libibverbs\.so[.0-9]*, provider /(usr/)?lib/[^ ]*/librxe-rdmav[0-9]+\.so" \
		"sealmrd loaded the system's libibverbs and rxe provider"
fi

flush_of() { $SEALMR stat "$A/$1" | sed -n 's/^flush: *//p'; }
commits() { $SEALMR stat --json "$A/$1" | jq -r .commits; }
want="commit"
[ $native = yes ] && want="commit native"
is "$(flush_of x)" "$want" "stat of an fs-dax export on xfs: flush: $want"
is "$(flush_of e)" "$want" "stat of an fs-dax export on ext4: flush: $want"
is "$($SEALMR stat --json $A/x | jq -r .flush)" "$want" "stat --json says the same"
is "$(flush_of n)" "commit" "a page-cache export never offers the native flush"
is "$(flush_of r)" "commit" "a read-only export offers only the commit"

rand_file src 1
head -c 300000 src > part
if [ $native = yes ]; then
	like "$(grep -m1 'native RDMA FLUSH to fs-dax' "$DLOG")" ": yes" \
		"the daemon says its device flushes fs-dax persistently, ODP regions too"
	c0=$(commits x)
	out=$($SEALMR put --flush native src $A/x@1M 2>&1)
	is "$?" 0 "put --flush native to xfs"
	is "$(commits x)" "$c0" "the native flush cost the daemon no commit"
	is "$(dd if=$X bs=1M skip=1 count=1 2>/dev/null | sha256sum | cut -d' ' -f1)" "$(sha src)" \
		"the bytes put are on the file"
	$SEALMR -q put --flush auto part $A/x@3M
	is "$?" 0 "put --flush auto to xfs"
	is "$(commits x)" "$c0" "auto chose the native flush where it is offered"
	$SEALMR -q put --flush commit part $A/e@3M
	is "$?" 0 "put --flush commit to ext4"
	is "$(commits e)" 1 "a forced commit goes through the daemon"
	$SEALMR -q put part $A/n@3M
	is "$(commits n)" 1 "put's default on a page-cache export is the commit"

	# Refusals: nothing written, the reason named.
	before=$(sha $N)
	out=$($SEALMR put --flush native part $A/n@5M 2>&1)
	is "$?" 4 "put --flush native to a page-cache export fails (exit 4)"
	like "$out" "native flush of grant [0-9]+ on 'n': the export is in page-cache mode" \
		"the message says the export is in page-cache mode"
	is "$(sha $N)" "$before" "nothing of that put is on the page-cache file"
	out=$($FW try $A x ro native 0 4096)
	is "$?" 1 "a native flush of a read-only grant fails"
	like "$out" "^flush: -95 .*the grant is read-only" "with EOPNOTSUPP: the grant is read-only"
	before=$(sha $X)
	out=$($FW try $A x rw native $((1020 << 10)) 8192)
	is "$?" 1 "a native flush past the grant's end fails"
	like "$out" "^flush: -34 .*beyond its 1048576 bytes" "with ERANGE, naming the grant's size"
	is "$(sha $X)" "$before" "nothing was written by it"
	j=$($SEALMR bench --json $A/x --op write --flush native --size 64K --depth 8 --time 1 --span 4M)
	is "$?" 0 "bench --op write --flush native: async native flushes, 8 in flight"
	is "$(echo "$j" | jq -r .flush)" native "its JSON says native"
	like "$(echo "$j" | jq -r .ops)" '^[1-9][0-9]*$' "and counts durable writes"
	is "$(commits x)" "$c0" "none of them cost the daemon a commit"
	out=$($SEALMR bench $A/n --op write --flush native --time 1 2>&1)
	is "$?" 4 "bench --flush native on a page-cache export fails (exit 4)"
	like "$out" "page-cache mode" "naming the page-cache mode"
	out=$($FW try $A x rw native 8192 4096)
	is "$out" "flush: 0" "the same grant flushes natively inside its range"
	is "$(od -An -tx1 -j 8192 -N 4 $X | tr -d ' ')" "a5a5a5a5" "and its write is on the file"

	# SIGKILL right after the put returned: its bytes are on the file.
	good=0
	for r in $(seq 20); do
		size=$((4096 + RANDOM * 7 % 900000)) off=$(((RANDOM % 12) << 20 | (RANDOM % 4096)))
		head -c $size src > k
		$SEALMR -q put --flush native k $A/x@$off 2> put.err || { diag "round $r: $(cat put.err)"; break; }
		kill -KILL $DPID
		wait $DPID 2>/dev/null
		DPID=
		got=$(dd if=$X iflag=skip_bytes,count_bytes skip=$off count=$size 2>/dev/null | sha256sum | cut -d' ' -f1)
		[ "$got" = "$(sha k)" ] && good=$((good + 1)) || diag "round $r: $size bytes at $off differ"
		daemon_start fl "$body" || { daemon_log; break; }
		A=$RDMA_ADDR:$PORT
	done
	is "$good" 20 "20 of 20 puts with a native flush were on the file after the daemon's SIGKILL"
	is "$(commits x)" 0 "and none of them needed the daemon's commit"
else
	before=$(sha $X)
	out=$($SEALMR put --flush native part $A/x 2>&1)
	is "$?" 4 "put --flush native fails on a build without ibv_wr_flush (exit 4)"
	like "$out" "rdma-core has no ibv_wr_flush" "naming what is missing"
	is "$(sha $X)" "$before" "nothing of that put is on the file"
	$SEALMR -q put part $A/x
	is "$?" 0 "put's default (auto) works"
	is "$(commits x)" 1 "by the commit"
fi
ok "the daemon stops cleanly" daemon_stop
finish
