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
finish
