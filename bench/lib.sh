# bench/lib.sh: the pieces bench/run uses, sourced in the VM.
# They set: B (the build), log (where each tool's output goes), secs (seconds
# per run), addr port dev gid (the daemon's address and perftest's device),
# ptport (perftest's next port), dpid (the daemon's pid, empty if none).

say() { echo "bench: $*"; }
json() { sed -n "s/.*\"$1\":\([0-9.eE+-]*\).*/\1/p" | head -n1; }

# A pair: the server in the background, the client once the server's output
# shows READY (an extended regex; at most 30 s), both bounded.
# pair NAME TIMEOUT READY "SERVER CMD" "CLIENT CMD": client output in
# $log/NAME.cli, server's in $log/NAME.srv.
pair() {
	local name=$1 t=$2 ready=$3 srv=$4 cli=$5 spid
	timeout -k 3 "$t" stdbuf -oL -eL bash -c "$srv" > "$log/$name.srv" 2>&1 &
	spid=$!
	for _ in $(seq 1 60); do
		grep -Eq "$ready" "$log/$name.srv" && break
		kill -0 $spid 2>/dev/null || break
		sleep 0.5
	done
	timeout -k 3 "$t" bash -c "$cli" > "$log/$name.cli" 2>&1 || echo "exit $?" >> "$log/$name.cli"
	# timeout passes a TERM on to the server; a KILL would orphan it.
	timeout 5 tail --pid=$spid -f /dev/null 2>/dev/null || kill $spid 2>/dev/null || true
	wait $spid 2>/dev/null || true
}

daemon() { # daemon CONF: starts sealmrd and waits for it to listen
	"$B/server/sealmrd" -c "$1" 2>> "$log/sealmrd.log" &
	dpid=$!
	for _ in $(seq 1 100); do
		timeout 10 "$B/client/sealmr" -q ls $addr:$port > /dev/null 2>&1 && return 0
		kill -0 $dpid 2>/dev/null || break
		sleep 0.3
	done
	say "sealmrd did not start: $(tail -n 3 "$log/sealmrd.log")"
	return 1
}
daemon_stop() {
	kill $dpid 2>/dev/null || true
	timeout 20 tail --pid=$dpid -f /dev/null 2>/dev/null || kill -9 $dpid 2>/dev/null || true
	wait $dpid 2>/dev/null || true
	dpid=
}
sealmr_bench() { # sealmr_bench NAME EXPORT ARGS... -> JSON line
	local name=$1 exp=$2; shift 2
	# -t: a pinned registration of a large grant takes many seconds here.
	timeout -k 3 $((secs + 150)) "$B/client/sealmr" -t 120000 bench $addr:$port/$exp --json "$@" \
		> "$log/$name.cli" 2>&1 || echo "exit $?" >> "$log/$name.cli"
	grep '^{' "$log/$name.cli" || true
}

# perftest_bw TOOL SIZE NAME [EXTRA...] -> R = MB/s: the "#bytes ... BW
# average[MB/sec]" line's fourth column. Each pair on a port of its own (a
# server that outlived its client holds the last one); the figure comes back
# in R, not through a subshell. PT_SRV: arguments for the server alone (its
# memory: the two sides must not map one file, or they share one buffer).
perftest_bw() {
	local tool=$1 size=$2 name=$3 p=$((ptport++)); shift 3
	local a="$tool -d $dev -x $gid -p $p -s $size -D $secs -F $*"
	pair "$name" $((secs + 40)) "Waiting for client" "$a ${PT_SRV:-}" "$a $addr"
	R=$(awk -v s=$size '$1 == s { print $4; exit }' "$log/$name.cli")
}
