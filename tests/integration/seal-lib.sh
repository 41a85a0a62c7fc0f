# Sourced by tests/integration/seal-*.t after lib.sh: drives tests/tools/sealtool.
ST=$TOOLS/sealtool
DAX_MOUNTS="/mnt/dax-xfs /mnt/dax-ext4"
trap '' PIPE # a sealtool that died must fail an assertion, not kill the test

# st_start NAME SEALTOOL-ARGS...: starts sealtool in the background, holding
# what it sealed, its standard input on fd $ST_FD. Waits for "sealed"
# (returns 0) or an error (returns 1). Sets ST_PID, ST_OUT, ST_LOG.
st_start() {
	local name=$1 fifo
	shift
	ST_OUT=$PWD/$name.out ST_LOG=$PWD/$name.log fifo=$PWD/$name.in
	rm -f "$fifo" "$ST_OUT"
	mkfifo "$fifo"
	"$ST" "$@" < "$fifo" > "$ST_OUT" 2> "$ST_LOG" &
	ST_PID=$!
	exec {ST_FD}> "$fifo"
	st_wait '^(sealed|error)' 30 && grep -q '^sealed$' "$ST_OUT" && return 0
	st_dump
	return 1
}

st_cmd() { echo "$*" >&$ST_FD; }

# st_wait REGEX [SECONDS]: until sealtool's output has a matching line.
st_wait() {
	local i
	for i in $(seq $((${2:-10} * 10))); do
		grep -qE -- "$1" "$ST_OUT" 2>/dev/null && return 0
		kill -0 $ST_PID 2>/dev/null || { grep -qE -- "$1" "$ST_OUT"; return; }
		sleep 0.1
	done
	return 1
}

# st_stop: closes sealtool's input (it releases everything); its exit code.
st_stop() {
	local rc=0
	exec {ST_FD}>&-
	wait $ST_PID || rc=$?
	return $rc
}

st_dump() { sed 's/^/#   out: /' "$ST_OUT"; sed 's/^/#   log: /' "$ST_LOG"; }

# st_refuse WANT_ERRNO DESCRIPTION SEALTOOL-ARGS...: sealtool must fail with
# exit code WANT_ERRNO and say "error -WANT_ERRNO". Leaves its output in ST_OUT.
st_refuse() {
	local want=$1 d=$2
	shift 2
	st_refuse_cmd "$want" "$d" "$ST" "$@"
}

# st_refuse_cmd WANT_ERRNO DESCRIPTION COMMAND...: the same for a command
# that runs sealtool (setpriv ... sealtool ...).
st_refuse_cmd() {
	local want=$1 d=$2 rc=0
	shift 2
	ST_OUT=$PWD/refuse.out
	"$@" < /dev/null > "$ST_OUT" 2>&1 || rc=$?
	is "$rc" "$want" "$d: exit code"
	like "$(grep -m1 '^error' "$ST_OUT")" "^error -$want " "$d: says error -$want"
}

# no_bad_extent FILE: filefrag -v lists no unwritten or shared extent (and
# the listing has at least one extent: a failing filefrag must not pass).
no_bad_extent() {
	local out
	out=$(filefrag -v "$1") || return 1
	grep -qE '^ *[0-9]+:' <<< "$out" || return 1
	if grep -qE '^ *[0-9]+:.*(unwritten|shared)' <<< "$out"; then
		printf '%s\n' "$out" | sed 's/^/#   filefrag: /'
		return 1
	fi
}

attrs() { lsattr -d "$1" 2>/dev/null | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
