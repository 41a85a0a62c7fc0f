#!/bin/bash
# The safety net: when a sealed file loses its flag behind sealmr's back
# (chattr -i) and is then changed, the owner hears of it through the changed
# callback (sealtool prints "changed N via inotify|verify: WHY" and releases
# that seal); other seals are not affected; nothing crashes.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"
. "$SEALMR_TOP_SRCDIR/tests/integration/seal-lib.sh"

for m in $DAX_MOUNTS; do
	f=$m/safety g=$m/bystander
	rm -f $f $g
	rand_file $f 2
	rand_file $g 1
	ok "$m: two files sealed" st_start safety seal $f 0 2M -- $g 0 1M
	chattr -i $f
	ok "$m: chattr -i is reported" st_wait "^changed 0 via" 5
	via=$(grep -o '^changed 0 via [a-z]*' "$ST_OUT" | awk '{print $4}')
	diag "$m: chattr -i on a sealed file was seen by: ${via:-nothing} (inotify = FS_IOC_SETFLAGS raised IN_ATTRIB)"
	like "$(grep '^changed 0' "$ST_OUT")" "immutable flag was cleared" "$m: the callback says the flag was cleared"
	ok "$m: truncate works once the flag is gone" truncate -s 0 $f
	ok "$m: the changed seal was released" st_wait "^released 0" 5
	nok "$m: the flag was not put back" is_immutable $f
	ok "$m: the bystander keeps its seal" is_immutable $g
	nok "$m: the bystander was not reported" grep -q "^changed 1" "$ST_OUT"
	ok "$m: sealtool still alive" kill -0 $ST_PID
	ok "$m: clean exit" st_stop
	nok "$m: bystander released at exit" is_immutable $g

	# chattr -i and truncate in one go: both are in the report.
	rand_file $f 1
	ok "$m: sealed again" st_start safety2 seal $f 0 1M
	chattr -i $f && truncate -s 4096 $f
	ok "$m: chattr -i + truncate reported" st_wait "^changed 0 via" 5
	diag "$m: $(grep '^changed 0' "$ST_OUT")"
	ok "$m: clean exit after the change" st_stop
	nok "$m: no flag left behind" is_immutable $f

	# rm after chattr -i: reported too, and the seal's release is harmless.
	rand_file $f 1
	ok "$m: sealed a third time" st_start safety3 seal $f 0 1M
	chattr -i $f && rm -f $f
	ok "$m: chattr -i + rm reported" st_wait "^changed 0 via" 5
	ok "$m: clean exit after rm" st_stop
	rm -f $f $g
done
finish
