#!/bin/bash
# The seal is lifted when the last mapping goes, also after a crash: a
# sealtool killed with SIGKILL leaves immutable files and a journal; the next
# start with the same state directory lifts exactly those.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"
. "$SEALMR_TOP_SRCDIR/tests/integration/seal-lib.sh"

state=$PWD/crash.state
x=/mnt/dax-xfs/crash e=/mnt/dax-ext4/crash by_hand=/mnt/dax-xfs/by-hand
rm -f $x $e $by_hand
rand_file $x 1
rand_file $e 1
rand_file $by_hand 1
chattr +i $by_hand

ok "two files sealed with --state" st_start crash --state "$state" seal $x 0 1M -- $e 0 1M
st_refuse 16 "a second sealtool on the same state directory" --state "$state" replay
ok "the journal names both files" grep -q "$x" "$state/seal.journal"
ok "... the ext4 one too" grep -q "$e" "$state/seal.journal"
kill -KILL $ST_PID
wait $ST_PID 2>/dev/null
exec {ST_FD}>&-
ok "after SIGKILL: xfs file still immutable" is_immutable $x
ok "after SIGKILL: ext4 file still immutable" is_immutable $e

out=$("$ST" --state "$state" replay 2>&1 < /dev/null)
rc=$?
is "$rc" 0 "replay with the same state directory exits 0"
nok "replay lifted the xfs file's flag" is_immutable $x
nok "replay lifted the ext4 file's flag" is_immutable $e
ok "a file chattr +i'ed by hand stays immutable" is_immutable $by_hand
like "$out" "lifted the stale seal's immutable flag of $x" "replay logs the xfs file"
like "$out" "lifted the stale seal's immutable flag of $e" "replay logs the ext4 file"
is "$(grep -c / "$state/seal.journal")" 0 "the journal is empty after replay"

# A stale record whose inode is not the file at that path any more.
ok "sealed again" st_start crash2 --state "$state" seal $x 0 1M
kill -KILL $ST_PID
wait $ST_PID 2>/dev/null
exec {ST_FD}>&-
chattr -i $x
mv $x $x.old
cp $x.old $x
chattr +i $x
out=$("$ST" --state "$state" replay 2>&1 < /dev/null)
ok "replay leaves a different inode at the recorded path alone" is_immutable $x
like "$out" "is no longer dev" "replay logs the mismatch"
chattr -i $x $by_hand
rm -f $x $x.old $e $by_hand
finish
