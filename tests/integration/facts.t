#!/bin/bash
# The kernel facts sealmr's design rests on (tests/tools/daxprobe.c). If a
# kernel changes one of them, this fails before anything built on it does.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"
P=$TOOLS/daxprobe

for m in dax-xfs dax-ext4; do
	is "$($P mapsync /mnt/$m/facts)" ok "MAP_SHARED_VALIDATE|MAP_SYNC works on /mnt/$m"
	is "$($P reg /mnt/$m/facts pinned)" EOPNOTSUPP "pinned ibv_reg_mr of fs-dax on /mnt/$m is refused"
	is "$($P reg /mnt/$m/facts odp)" ok "ODP ibv_reg_mr of fs-dax on /mnt/$m works"
	rm -f /mnt/$m/facts
	is "$($P rdma /mnt/$m/facts-rdma $RDMA_ADDR $(free_port) 2>&1)" ok \
		"librdmacm WRITE+READ of 1 MiB into an fs-dax ODP MR on /mnt/$m: bytes on the file"
done
is "$($P mapsync /mnt/nodax/facts)" EOPNOTSUPP "MAP_SYNC on a non-DAX ext4 is EOPNOTSUPP"

mtu=$(ibv_devinfo -d rxe0 | sed -n 's/.*active_mtu:[[:space:]]*\([0-9]*\).*/\1/p')
is "$mtu" 4096 "rxe0's active MTU is 4096 (eth0 mtu 9000)"
# rxe's ODP copy (7.2) maps the page but not the offset within it: a packet
# that starts inside a page lands at the page's start. The client keeps
# every packet page-aligned; when a kernel fixes this, this line says so.
got=$(DAXPROBE_SKEW=1024 $P rdma /mnt/dax-xfs/facts-skew $RDMA_ADDR $(free_port) 2>/dev/null)
is "$got" EIO "rxe ODP still misplaces a WRITE that starts mid-page (the client's alignment rule is needed)"

# Why a grant is an MR of its own rather than a type 2 memory window on one
# MR per export (tests/tools/mwprobe.c): on rxe (7.2) a window isolates
# nothing. Its bounds go unchecked, so a WRITE through it lands anywhere in
# the MR behind it, and binding it checks the QP's PD but not the MR's. These
# lines assert the bugs as they are; when a kernel fixes one, its line fails,
# and windows, whose bind and invalidate cost the same at any MR size, could
# be reconsidered for grants.
M=$TOOLS/mwprobe
mw_diag() { local l; while IFS= read -r l; do diag "$l"; done < "mw-$1.err"; }
is "$($M bounds $RDMA_ADDR $(free_port) 2> mw-bounds.err)" landed \
	"rxe still lets a WRITE through a 64 KiB window land 8 MiB past it, in its MR (a failure: windows now have bounds, reconsider them for grants)"
mw_diag bounds
is "$($M crosspd $RDMA_ADDR $(free_port) 2> mw-crosspd.err)" bound \
	"rxe still binds a window to an MR of another PD (a failure: binds now check the MR's PD, reconsider windows for grants)"
mw_diag crosspd
# Figures only, never asserted: under TCG they say whether the cost grows
# with the MR, not what hardware would take.
is "$($M bindtime $RDMA_ADDR $(free_port) 2> mw-bindtime.err)" ok \
	"a type 2 window over a 4 MiB and a 256 MiB MR binds and invalidates (median times below)"
mw_diag bindtime
finish
