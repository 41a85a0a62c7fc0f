#!/bin/bash
# What the service promises beyond put/get: a client's rkey is useless on
# any other connection; a client killed before its flush corrupts nothing
# outside the range it wrote; malformed messages get errors, the talker is
# dropped, and the daemon serves the next client.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"
RAW=$TOOLS/rawclient

F=/mnt/dax-ext4/svc-$$
rand_file $F 16
cp $F orig
daemon_start svc "$(export_conf a $F 16M)

$(export_conf b /mnt/dax-xfs/svc-b-$$ 4M)" || { daemon_log; finish; }
A=$RDMA_ADDR:$PORT

# Isolation: A holds a grant; B, another connection, uses A's address and
# rkey and must get a remote access error, every time.
coproc HOLD { $RAW $RDMA_ADDR $PORT hold a 16777216; }
read -r word raddr rkey <&"${HOLD[0]}"
is "$word" grant "client A holds a grant on 'a'"
# Each try is a new connection (its own PD) using the access A was granted:
# RDMA READs and, every other try, RDMA WRITEs of 0xa5 bytes.
refused=0 tries=40
for i in $(seq $tries); do
	op=read; [ $((i % 2)) = 0 ] && op=write
	out=$($RAW $RDMA_ADDR $PORT $op $raddr $rkey 4096)
	case $out in *"remote access error"*|*"REM_ACCESS"*) refused=$((refused + 1)) ;; *) diag "try $i ($op): $out" ;; esac
done
diag "rkey isolation: $refused of $tries (reads and writes on other connections with A's rkey and address: remote access error)"
is "$refused" $tries "client B with A's rkey and address: remote access error, $refused of $tries"
cmp -s <(head -c 1M $F) <(head -c 1M orig); ok "B's refused writes changed no byte of A's range" test $? = 0
is "$($RAW $RDMA_ADDR $PORT read $raddr $((rkey ^ 0x100)) 4096)" "remote access error" \
	"a guessed rkey on B's connection: remote access error"
exec {HOLD[1]}>&-
wait $HOLD_PID 2>/dev/null

# A client killed between its writes and its flush: nothing outside the
# range it wrote changes, and the daemon goes on serving.
head -c 1M /dev/urandom > patch
$SEALMR put patch $A/a@8M > /dev/null 2>&1 &
pid=$!
sleep 0.3
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
cmp -s <(head -c 8M $F) <(head -c 8M orig); ok "killed writer: bytes before its range untouched" test $? = 0
cmp -s <(tail -c 7M $F) <(tail -c 7M orig); ok "killed writer: bytes after its range untouched" test $? = 0
for _ in $(seq 50); do $SEALMR stat $A/a 2>&1 | grep -qE "grants:? +0" && break; sleep 0.1; done
like "$($SEALMR stat $A/a 2>&1)" "grants:? +0" "the killed client's grant was reclaimed"
nok "the file is no longer immutable once its grants are gone" is_immutable $F

# Hostile input over a real connection: each malformed message answered
# with an error until the daemon drops the talker; others are served.
got=$($RAW $RDMA_ADDR $PORT garbage 50 7)
is "$got" 7 "7 malformed messages answered with ERROR, then the talker is dropped"
for seed in 1 2 3; do $RAW $RDMA_ADDR $PORT garbage 5 $seed > /dev/null; done
like "$($SEALMR ls $A 2>&1)" "^a " "after hostile clients, a new client is served"
$SEALMR get $A/a@0+1M got > /dev/null 2>&1
cmp -s got <(head -c 1M orig); ok "and reads the right bytes" test $? = 0
ok "the daemon stops cleanly" daemon_stop
like "$(grep -c 'bad message' $DLOG)" '^[1-9]' "the daemon logged the bad messages"
finish
