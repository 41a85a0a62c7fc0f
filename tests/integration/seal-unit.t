#!/bin/bash
# The seal module's unit tests (tests/unit/seal/), run here because they need
# what a build host may lack: root with CAP_LINUX_IMMUTABLE, an ext4 without
# DAX (/mnt/nodax, the file system the write-lease test is about), unwritten
# extents, and tmpfs at /dev/shm. Each cmocka result becomes one assertion;
# a binary that stops short of its plan, or exits non-zero, fails.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

dir=$(mktemp -d /mnt/nodax/seal-unit.XXXXXX)
chmod 755 "$dir" # the EACCES test looks at the file as nobody, who must reach it
for name in seal-journal seal-fiemap seal-params seal-registry; do
	bin=$B/tests/unit/seal/$name
	if [ ! -x "$bin" ]; then
		echo "not ok - $name: $bin is not built (make check builds it; configure found no cmocka?)"
		failures=$((failures + 1))
		continue
	fi
	(cd "$dir" && TMPDIR=$dir CMOCKA_MESSAGE_OUTPUT=TAP "$bin") > $name.tap 2>&1
	rc=$?
	plan= results=0
	while IFS= read -r line; do
		case $line in
		1..*) plan=${line#1..} ;;
		"ok "*|"not ok "*)
			results=$((results + 1))
			# "ok 3 - name" -> "ok - seal-params: name"
			v=${line%% [0-9]*}; d=$(printf '%s' "$line" | sed -E 's/^(not )?ok [0-9]+ -? ?//')
			echo "$v - $name: $d"
			[ "$v" = ok ] || failures=$((failures + 1))
			;;
		*) echo "# $line" ;;
		esac
	done < $name.tap
	is "$results" "${plan:-none}" "$name: every test of its plan reported"
	is "$rc" 0 "$name: exits 0"
done
rm -rf "$dir"
finish
