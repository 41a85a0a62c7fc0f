#!/bin/bash
# What sealmr says and returns when it cannot do what was asked: each error
# names its cause on one line and has its exit code (sealmr --help).
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

DATA=/mnt/dax-xfs/err-$$ RO=/mnt/dax-ext4/err-ro-$$
truncate -s 16M $DATA
rand_file $RO 1
head -c 4096 /dev/urandom > small
: > empty
daemon_start err "$(export_conf data $DATA 16M)

$(export_conf ro $RO 1M ro dax)" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT

check() { # check DESCRIPTION WANT_RC REGEX CMD...
	local d=$1 want=$2 re=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	is "$rc" "$want" "$d: exit $want"
	like "$out" "$re" "$d: says why"
	[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || diag "more than one line: $out"
}

check "write to a read-only export" 3 "^sealmr: put small: open 'ro' at $A: export 'ro' is read-only$" \
	$SEALMR put small $A/ro
check "unknown export" 3 "^sealmr: put small: open 'nosuch' at $A: no export 'nosuch'$" \
	$SEALMR put small $A/nosuch
check "stat of an unknown export" 3 "stat 'nosuch' at $A: no export 'nosuch'" \
	$SEALMR stat $A/nosuch
check "put beyond the end" 3 "open 'data' at $A: .*beyond its 16777216 bytes" \
	$SEALMR put small $A/data@16M
check "get from an offset past the end" 3 "offset 33554432 is beyond the end of export 'data'" \
	$SEALMR get $A/data@32M dst
check "get of zero bytes" 3 "open 'data' at $A: .*zero length" $SEALMR get $A/data@0+0 dst
check "get of more than the export" 3 "open 'data' at $A: .*\[0, \+17825792\) is beyond its 16777216 bytes" \
	$SEALMR get $A/data@0+17M dst
check "get across the end" 3 "beyond its 16777216 bytes" $SEALMR get $A/data@15M+2M dst
nok "a refused get leaves no file behind" test -e dst
check "nothing listening on the port" 2 "sealmrd at $RDMA_ADDR:$((PORT + 1)) refused the connection" \
	$SEALMR get $RDMA_ADDR:$((PORT + 1))/data dst
check "an address no RDMA device reaches" 2 "cannot connect to sealmrd at 192.0.2.1:7471" \
	$SEALMR --timeout 2000 ls 192.0.2.1
check "a bad target" 1 "bad target 'nohost': expected HOST\[:PORT\]/EXPORT" $SEALMR get nohost dst
check "a bad port" 1 "the port is not a number" $SEALMR ls $RDMA_ADDR:99999
check "an empty file" 1 "the file is empty" $SEALMR put empty $A/data
check "an unknown command" 1 "unknown command 'frobnicate'" $SEALMR frobnicate
check "bench with a bad --op" 1 "--op is read or write" $SEALMR bench $A/data --op copy
check "put with an option of bench" 1 "put: --depth is not an option of put" \
	$SEALMR put empty $A/data --depth 4
check "a count with a size's suffix" 1 "--depth: '1K' is not a count from 1 to 4096" \
	$SEALMR bench $A/data --depth 1K
like "$($SEALMR --help | tr "\n" " ")" "exit status:.*5  the grant was revoked" "--help documents the exit codes"
out=$($SEALMR ls $A)
like "$out" "data +16777216 +16.0 MiB +rw +dax" "ls lists the rw export"
like "$out" "ro +1048576 +1.0 MiB +ro +dax" "ls lists the ro export"
is "$($SEALMR ls --json $A | jq -r '.[].name' | tr '\n' ' ')" "data ro " "ls --json"
ok "the daemon stops cleanly" daemon_stop
rm -f $DATA $RO
finish
