#!/bin/sh
# The installed sealmrd.service passes systemd-analyze verify without a
# word: every setting parses, ExecStart= and ExecReload= are executables,
# Documentation= names installed man pages. The unit is checked as
# installed, but for ExecStart=, pointed at the daemon under DESTDIR.
# shellcheck disable=SC2154,SC1091 # top_srcdir and inst_*: make check's environment
. "$top_srcdir/tests/install/lib.sh"

if ! command -v systemd-analyze >/dev/null; then
	echo "1..1"
	echo "not ok 1 - systemd-analyze not found: it comes with the Debian package systemd"
	exit 1
fi
echo "1..3"
ok 0 "systemd-analyze: $(systemd-analyze --version | head -n 1)"

install_destdir
unit=$dest$inst_unitdir/sealmrd.service
test -f "$unit"
ok $? "make install DESTDIR=... puts sealmrd.service in $inst_unitdir"

mkdir "$dest/verify"
sed "s|^ExecStart=$inst_sbindir/|ExecStart=$dest$inst_sbindir/|" "$unit" \
	>"$dest/verify/sealmrd.service"
out=$(MANPATH=$dest$inst_mandir SYSTEMD_LOG_COLOR=0 \
	systemd-analyze verify "$dest/verify/sealmrd.service" 2>&1)
rc=$?
test $rc = 0 && test -z "$out"
ok $? "systemd-analyze verify sealmrd.service: exit $rc, ${out:+not }silent"
[ -z "$out" ] || echo "$out" | diag
exit "$tap_failed"
