#!/bin/sh
# make install DESTDIR=... installs a working set: the programs, the library
# (versioned, public symbols only), its header and .pc, the manual (every
# page renders without a warning), the systemd unit, the sysusers.d snippet
# and the example configuration; a program builds against the installed
# header and library and runs; make uninstall takes it all away.
# shellcheck disable=SC2154,SC1091 # top_srcdir and inst_*: make check's environment
. "$top_srcdir/tests/install/lib.sh"

if ! install_destdir; then
	echo "not ok 1 - make install DESTDIR=$dest"
	echo "1..1"
	exit 1
fi
ok 0 "make install DESTDIR=$dest"

# The programs, where configure put them.
for p in $inst_bin; do
	test -x "$dest$inst_bindir/${p##*/}"
	ok $? "program ${p##*/} in $inst_bindir"
done
for p in $inst_sbin; do
	test -x "$dest$inst_sbindir/${p##*/}"
	ok $? "program ${p##*/} in $inst_sbindir"
done

# The library: its soname, a development link, only the public API.
lib=$dest$inst_libdir/libsealmr.so
soname=$(readelf -d "$lib.0" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
test -L "$lib" && test "$soname" = libsealmr.so.0
ok $? "libsealmr.so -> libsealmr.so.0 (soname '$soname') in $inst_libdir"
hdr=$dest$inst_includedir/sealmr/sealmr.h
test -f "$hdr"
ok $? "header sealmr/sealmr.h in $inst_includedir"
test -f "$dest$inst_pkgconfigdir/libsealmr.pc"
ok $? "libsealmr.pc in $inst_pkgconfigdir"

declared=$(grep -o '^[a-z][a-z0-9_ ]*[ *]sealmr_[a-z0-9_]*(' "$hdr" |
	sed 's/.*\(sealmr_[a-z0-9_]*\)($/\1/' | sort)
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' |
	sort -u)
test -n "$declared" && test "$declared" = "$exported"
rc=$?
ok $rc "the library exports exactly the $(echo "$declared" | wc -l) functions of sealmr.h"
if [ $rc != 0 ]; then
	echo "declared:" "$declared" | diag
	echo "exported:" "$exported" | diag
fi
nm -D --defined-only "$lib" | grep -q ' SEALMR_0\.1$'
ok $? "the symbols carry the version node SEALMR_0.1 (client/libsealmr.map)"
# Programs linked before struct sealmr_conn_opts grew keep their connect.
nm -D --defined-only "$lib" | grep -q ' sealmr_connect@SEALMR_0\.1$'
ok $? "sealmr_connect@SEALMR_0.1 is still there for programs built against 0.1"
nm -D --defined-only "$lib" | grep -q ' sealmr_connect@@SEALMR_0\.2$'
ok $? "sealmr_connect@@SEALMR_0.2 is what new programs link"
nm -D --defined-only "$lib" | grep -q ' sealmr_stat@SEALMR_0\.1$'
ok $? "sealmr_stat@SEALMR_0.1 (the struct without flush_methods) is still there"
nm -D --defined-only "$lib" | grep -q ' sealmr_stat@@SEALMR_0\.3$'
ok $? "sealmr_stat@@SEALMR_0.3 is what new programs link"

# The manual: every page there, rendered without a warning.
if ! command -v man >/dev/null; then
	ok 1 "man not found: the man pages cannot be checked (Debian package man-db)"
fi
for m in $inst_mans; do
	page=${m##*/}
	file=$dest$inst_mandir/man${page##*.}/$page
	if ! test -f "$file"; then
		ok 1 "man page $page in $inst_mandir"
		continue
	fi
	command -v man >/dev/null || continue
	err=$(MANWIDTH=80 man -l --warnings "$file" 2>&1 >/dev/null)
	rc=$?
	test $rc = 0 && test -z "$err"
	ok $? "man page $page renders without warnings"
	[ -z "$err" ] || echo "$err" | diag
done
undocumented=
for f in $declared; do
	grep -qw "$f" "$dest$inst_mandir/man3/libsealmr.3" 2>/dev/null ||
		undocumented="$undocumented $f"
done
test -z "$undocumented"
ok $? "libsealmr(3) documents every function of sealmr.h${undocumented:+ (missing:$undocumented)}"
nopage=
if command -v man >/dev/null; then
	for f in $declared; do
		if ! err=$(MANWIDTH=80 MANPATH=$dest$inst_mandir man --warnings 3 "$f" 2>&1 >/dev/null) ||
			[ -n "$err" ]; then
			nopage="$nopage $f"
		fi
	done
	test -z "$nopage"
	ok $? "man 3 FUNCTION shows libsealmr(3) for every function${nopage:+ (not:$nopage)}"
fi

# The service: unit, user, configuration.
if [ "$inst_unitdir" != no ]; then
	unit=$dest$inst_unitdir/sealmrd.service
	grep -q "^ExecStart=$inst_sbindir/sealmrd -c $inst_sysconfdir/sealmr/sealmrd.conf\$" \
		"$unit" 2>/dev/null
	ok $? "sealmrd.service in $inst_unitdir runs $inst_sbindir/sealmrd"
fi
if [ "$inst_sysusersdir" != no ]; then
	grep -q '^u sealmr ' "$dest$inst_sysusersdir/sealmr.conf" 2>/dev/null
	ok $? "sysusers.d/sealmr.conf in $inst_sysusersdir creates the user sealmr"
fi
example=$dest$inst_sysconfdir/sealmr/sealmrd.conf.example
out=$("$dest$inst_sbindir/sealmrd" -t -c "$example" 2>&1)
ok $? "sealmrd -t accepts the installed sealmrd.conf.example"
echo "$out" | diag

# Building against what was installed, and nothing else.
pc()
{
	PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$dest$inst_pkgconfigdir \
		${PKG_CONFIG:-pkg-config} "$@" libsealmr
}
cflags=$(pc --cflags) && libs=$(pc --libs)
rc=$?
case $libs in *"-L$dest$inst_libdir"*-lsealmr*) ;; *) rc=1 ;; esac
ok $rc "pkg-config --cflags --libs libsealmr: $cflags $libs"
# shellcheck disable=SC2086 # word splitting wanted
${CC:-cc} -std=c11 -pedantic -Wall -Wextra -Werror $inst_san_cflags $cflags \
	"$top_srcdir/tests/install/version.c" -o "$dest/version" $libs $inst_san_ldflags 2>&1 | diag
test -x "$dest/version"
ok $? "a program builds against the installed header and library (-std=c11 -pedantic -Werror)"
out=$(LD_LIBRARY_PATH=$dest$inst_libdir "$dest/version" 2>&1)
ok $? "it runs: $out"
LD_LIBRARY_PATH=$dest$inst_libdir ldd "$dest/version" | grep -q "libsealmr.so.0 => $dest"
ok $? "it loads the installed libsealmr.so.0"
rm -f "$dest/version"

env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" -s -C "$top_builddir" uninstall \
	DESTDIR="$dest" >/dev/null 2>&1
left=$(find "$dest" ! -type d)
test -z "$left"
ok $? "make uninstall DESTDIR=... leaves no file"
[ -z "$left" ] || echo "$left" | diag

echo "1..$tap_n"
exit "$tap_failed"
