#!/bin/bash
# fio through sealmr's ioengine (bench/fio/sealmr-fio.so) with verify=crc32c:
# block sizes that are not pages (512, 6000) and a random mix from 512 bytes
# to 256 KiB, so that transfers start and end mid-page and go partly through
# the daemon (sub-page I/O) and partly one-sided, striped over the data QPs.
# fio writes every block with a checksummed header and reads it back through
# the engine; then the same job, with fio's own psync engine, verifies the
# file itself after the daemon stopped: the bytes are on the fs-dax file,
# not only where the engine read them.
#
# The engine is built against the source of the installed fio (configure
# --with-fio-src, bench/fio/get-fio-src; scripts/check does both). A build
# without it fails here with that reason rather than skipping.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

ENGINE=$B/bench/fio/.libs/sealmr-fio.so
if ! command -v fio > /dev/null || [ ! -f "$ENGINE" ]; then
	is "no engine" "an engine" \
		"fio and $ENGINE (apt-get install fio; bench/fio/get-fio-src; configure --with-fio-src=DIR)"
	finish
fi
# A sanitizer build's engine needs the ASan runtime loaded first into fio,
# which is not built with it; fio's own leaks are not the engine's.
FIO=(fio)
if grep -q '^SAN_CFLAGS = .*-fsanitize=address' "$B/Makefile" 2>/dev/null; then
	FIO=(env "LD_PRELOAD=$(gcc -print-file-name=libasan.so)"
	     "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" fio)
fi
# fio links the system's libibverbs, which would be the engine's too: a
# build on another rdma-core (configure --with-rdma-core) gives fio that one.
prefix=$(sed -n 's/^RDMA_CORE_PREFIX = //p' "$B/Makefile")
if [ -n "$prefix" ] && [ "$prefix" != no ]; then
	FIO=(env "LD_LIBRARY_PATH=$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "${FIO[@]}")
fi

F=/mnt/dax-xfs/fio-$$
SIZE=2M
truncate -s $SIZE $F
daemon_start fio "$(export_conf data $F $SIZE)" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT

# job NAME ENGINE_ARGS...: the job file's common part; the same name, seed
# and block sizes are what lets fio find its own blocks again.
job() {
	local name=$1; shift
	printf '[%s]\nrw=randwrite\nrandrepeat=1\nrandseed=%s\nsize=%s\nnorandommap=0\n' \
		"$name" "$seed" "$SIZE"
	printf 'verify=crc32c\nverify_fatal=1\nverify_backlog=0\niodepth=8\n'
	printf '%s\n' "$@"
}
stats() { "$SEALMRCTL" -s "$DSOCK" stats --json | jq -r ".stats.small_writes + .stats.small_reads"; }

cases=("bs=512" "bs=6000" "bsrange=512-256k")
seed=4242
small0=$(stats)
for c in "${cases[@]}"; do
	n=${c%%=*}-${c#*=}
	job "$n" "$c" "ioengine=external:$ENGINE" "sealmr_host=$A" "filename=data" > "$n.fio"
	timeout -k 5 300 "${FIO[@]}" --output-format=json --output="$n.json" "$n.fio" > "$n.out" 2>&1
	rc=$?
	w=$(jq -r '.jobs[0].write.io_bytes' "$n.json" 2>/dev/null)
	r=$(jq -r '.jobs[0].read.io_bytes' "$n.json" 2>/dev/null)
	e=$(jq -r '.jobs[0].error' "$n.json" 2>/dev/null)
	is "$rc:$e" "0:0" "fio $c randwrite, verify=crc32c through the engine: no error"
	[ "$rc:$e" = 0:0 ] || sed 's/^/#   fio: /' "$n.out" | tail -n 15
	diag "$c: wrote $w bytes, verified $r bytes through the engine"
	is "$([ "${w:-0}" -gt 0 ] && [ "${r:-0}" -ge "$w" ] && echo yes)" yes \
		"fio $c read back at least every byte it wrote"
	seed=$((seed + 1))
done
small1=$(stats)
diag "sub-page messages through the daemon: $((small1 - small0))"
is "$([ $((small1 - small0)) -gt 0 ] && echo yes)" yes \
	"the unaligned heads and tails went through the daemon (small writes and reads counted)"
ok "the daemon stops cleanly" daemon_stop

# The last job's blocks, from the file itself: fio's verify_only reads
# what the same job would have written and checks every header and crc.
seed=$((seed - 1))
c=${cases[-1]} n=file-${c%%=*}
job "${c%%=*}-${c#*=}" "$c" "ioengine=psync" "filename=$F" "verify_only=1" > "$n.fio"
timeout -k 5 300 "${FIO[@]}" --output-format=json --output="$n.json" "$n.fio" > "$n.out" 2>&1
rc=$?
is "$rc:$(jq -r '.jobs[0].error' "$n.json" 2>/dev/null)" "0:0" \
	"fio $c verify_only with psync on the fs-dax file after the daemon stopped: every block right"
[ $rc = 0 ] || sed 's/^/#   fio: /' "$n.out" | tail -n 15
is "$(jq -r '.jobs[0].read.io_bytes' "$n.json" 2>/dev/null)" \
	"$(jq -r '.jobs[0].write.io_bytes' "${c%%=*}-${c#*=}.json" 2>/dev/null)" \
	"fio $c verify_only read as many bytes from the file as the job wrote through the engine"
rm -f $F
finish
