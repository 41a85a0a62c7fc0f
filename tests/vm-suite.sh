#!/bin/bash
# make check's integration entry: boots the test VM once and runs the whole
# integration suite in it. Speaks TAP; a VM that cannot boot is a failure
# with its reason, never a skip.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
case $top_builddir in
"$top_srcdir"|"$top_srcdir"/*) ;;
*) echo "Bail out! the build directory $top_builddir is outside the source tree: the VM shares only $top_srcdir"; exit 1 ;;
esac
if [ -n "${SEALMR_VM:-}" ]; then
	exec "$top_srcdir/tests/integration/run-all" "$top_builddir"
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# The soak's length (scripts/check shortens it in its sanitizer pass).
soak=
case ${SEALMR_SOAK_SECONDS:-} in
''|*[!0-9]*) ;;
*) soak="SEALMR_SOAK_SECONDS=$SEALMR_SOAK_SECONDS " ;;
esac
# SEALMR_SMOKE_BUILDDIR: a second build whose smoke test runs in the same
# boot, before the suite (scripts/check: the release build's).
smoke=
if [ -n "${SEALMR_SMOKE_BUILDDIR:-}" ]; then
	case $SEALMR_SMOKE_BUILDDIR in
	"$top_srcdir"/*) smoke="--smoke '$SEALMR_SMOKE_BUILDDIR' " ;;
	*) echo "Bail out! SEALMR_SMOKE_BUILDDIR=$SEALMR_SMOKE_BUILDDIR is outside the source tree: the VM shares only $top_srcdir"; exit 1 ;;
	esac
fi
"$top_srcdir/tests/vm/run" "${soak}tests/integration/run-all $smoke'$top_builddir'" 2> >(tee "$out" >&2)
rc=$?
sleep 0.2
if [ "$rc" = 125 ]; then
	echo "not ok - the test VM could not run the suite: $(grep '^vm:' "$out" | tail -n 1)"
	echo "Bail out! VM failure (see the vm: lines above)"
	exit 1
fi
exit "$rc"
