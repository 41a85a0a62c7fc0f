#!/bin/sh
# Every call whose failure sends the daemon, the seal module or the library
# down an unwinding path (an allocation, a verbs or rdma_cm object, an
# event, a mapping, a journal write) stands behind a named FAULT point, so
# that tests/integration/faults.t, which walks every FAULT of the tree,
# reaches every such path; and no two points share a name. TAP.
cd "${top_srcdir:-$(dirname "$0")/../..}" || exit 1

calls='calloc|malloc|realloc|strdup|asprintf|open_memstream|ibv_reg_mr|ibv_alloc_pd|ibv_create_cq|ibv_create_comp_channel|ibv_open_device|ibv_query_device_ex|ibv_post_recv|rdma_create_id|rdma_bind_addr|rdma_listen|rdma_resolve_addr|rdma_resolve_route|rdma_create_qp|rdma_create_qp_ex|rdma_accept|rdma_connect|rdma_create_event_channel|event_new|evconnlistener_new|mmap|fsync|renameat'
files=$(ls server/*.c seal/*.c client/lib/*.c)

# A call is covered when FAULT( is on its line or on one of the two before
# (a point and its call may be split over lines); strings and comments are
# taken out first, so that a message naming a call is not one.
bare=$(awk -v calls="$calls" '
	FNR == 1 { p1 = p2 = ""; incomment = 0 }
	{
		line = $0
		gsub(/"([^"\\]|\\.)*"/, "\"\"", line)
		if (incomment) { if (line ~ /\*\//) { sub(/.*\*\//, "", line); incomment = 0 } else line = "" }
		gsub(/\/\*.*\*\//, "", line)
		if (line ~ /\/\*/) { sub(/\/\*.*/, "", line); incomment = 1 }
		sub(/\/\/.*/, "", line)
		if (line ~ ("(^|[^a-z_.>])(" calls ")\\(") && (line p1 p2) !~ /FAULT\(/)
			printf "%s:%d: %s\n", FILENAME, FNR, $0
		p2 = p1; p1 = line
	}' $files)
n_points=$(grep -ohE 'FAULT\("[a-z0-9_.-]+"' $files | sort | wc -l)
dups=$(grep -ohE 'FAULT\("[a-z0-9_.-]+"' $files | sort | uniq -d)

echo "1..3"
if [ -z "$bare" ]; then
	echo "ok 1 - every allocation, verbs, rdma_cm, event, mapping and journal call has a failure point"
else
	echo "not ok 1 - calls without a FAULT point (faults.t cannot reach their unwinding):"
	echo "$bare" | sed 's/^/# /'
fi
if [ -z "$dups" ]; then
	echo "ok 2 - no two points share a name"
else
	echo "not ok 2 - points named twice: $(echo $dups)"
fi
if [ "$n_points" -ge 60 ]; then
	echo "ok 3 - the tree has $n_points failure points"
else
	echo "not ok 3 - only $n_points failure points"
fi
