# Shared by the install tests: TAP helpers and a DESTDIR install of this
# build into a temporary directory. Sourced; make check's environment gives
# MAKE, CC, top_builddir and the inst_* directories (tests/install/local.mk).

# shellcheck disable=SC2154,SC2034 # make check's environment; the tests read these
tap_n=0
tap_failed=0

# ok CONDITION-STATUS DESCRIPTION: one TAP line.
ok()
{
	tap_n=$((tap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=1
	fi
}

# Indents a command's output as TAP diagnostics.
diag()
{
	sed 's/^/# /'
}

# Installs this build under a new temporary directory: $dest.
install_destdir()
{
	dest=$(mktemp -d "${TMPDIR:-/tmp}/sealmr-install.XXXXXX") || return 1
	trap 'rm -rf "$dest"' EXIT
	# A make of our own, not a job of the one running the tests.
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" -s -C "$top_builddir" \
		install DESTDIR="$dest" >"$dest.log" 2>&1
	rc=$?
	[ $rc = 0 ] || diag <"$dest.log"
	rm -f "$dest.log"
	return $rc
}
