#!/bin/bash
# sealmr bench: async READs and WRITEs at depth over one grant. --json
# prints one object with the documented keys; the human form says MB/s.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

F=/mnt/dax-xfs/bench-$$
truncate -s 64M $F
daemon_start bench "$(export_conf data $F 64M)" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT
keys='["op","size","depth","bytes","seconds","mb_per_s","ops_per_s","lat_us_p50","lat_us_p99"]'
for op in write read; do
	out=$($SEALMR bench $A/data --op $op --size 64K --depth 16 --time 3 --json)
	is "$?" 0 "bench --op $op --json succeeds"
	is "$(printf '%s\n' "$out" | wc -l)" 1 "bench --op $op --json prints one line"
	is "$(printf '%s' "$out" | jq -c --argjson k "$keys" '[$k[] as $x | has($x)] | all')" true \
		"bench --op $op --json has every required key"
	is "$(printf '%s' "$out" | jq -r '"\(.op) \(.size) \(.depth) \(.bytes > 0) \(.mb_per_s > 0) \(.lat_us_p99 >= .lat_us_p50)"')" \
		"$op 65536 16 true true true" "bench --op $op --json values make sense"
	diag "$out"
done
is "$($SEALMR bench $A/data --op read --size 4K --lat --time 1 --json | jq -r .wait)" sleep \
	"bench waits asleep unless told"
out=$($SEALMR bench $A/data --op write --size 4K --lat --time 1 --poll --json)
is "$(printf '%s' "$out" | jq -r '"\(.wait) \(.depth) \(.ops > 0)"')" "poll 1 true" \
	"bench --poll --lat busy-polls, one operation at a time"
out=$($SEALMR bench $A/data --op read --size 1M --depth 4 --time 2)
like "$(echo $out)" "bench read: size 1048576, depth 4.* MB/s .* latency us: p50 [0-9.]+ +p99 [0-9.]+" \
	"bench prints MB/s and latency in words"
diag "$out"
ok "the daemon stops cleanly" daemon_stop
rm -f $F
finish
