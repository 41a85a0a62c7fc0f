# Sourced by every tests/integration/*.t. TAP helpers and the pieces of the
# real system a test needs: the daemon on a free port with its own state
# directory, the sealmr command, files on the VM's mounts.
set -u
B=${SEALMR_BUILDDIR:?run through tests/integration/run-all}
S=${SEALMR_TOP_SRCDIR:?}
SEALMRD=$B/server/sealmrd
# sealmr is installed, so libtool wraps it in a script (about 0.5 s an exec
# under TCG): run the binary behind it, and find libsealmr through a
# directory on the scratch tmpfs. LD_LIBRARY_PATH naming the build tree
# itself would make every exec of every program probe the 9p share for
# each of its libraries, doubling what an exec costs.
SEALMR=$B/client/sealmr
if [ -x "$B/client/.libs/sealmr" ] && [ -e "$B/client/.libs/libsealmr.so" ]; then
	SEALMR=$B/client/.libs/sealmr
	mkdir -p "$PWD/.libs"
	ln -sf "$B"/client/.libs/libsealmr.so* "$PWD/.libs/"
	export LD_LIBRARY_PATH=$PWD/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
SEALMRCTL=$B/ctl/sealmrctl
TOOLS=$B/tests/tools
RDMA_ADDR=${SEALMR_RDMA_ADDR:-10.0.2.15}
failures=0

ok() { # ok DESCRIPTION COMMAND... : passes when the command succeeds
	local d=$1; shift
	if "$@"; then echo "ok - $d"; else echo "not ok - $d"; failures=$((failures + 1)); fi
}
nok() { # nok DESCRIPTION COMMAND... : passes when the command fails
	local d=$1; shift
	if "$@"; then echo "not ok - $d"; failures=$((failures + 1)); else echo "ok - $d"; fi
}
is() { # is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then echo "ok - $3"; else
		echo "not ok - $3"; echo "#   got:  '$1'"; echo "#   want: '$2'"; failures=$((failures + 1)); fi
}
like() { # like GOT REGEX DESCRIPTION
	if printf '%s' "$1" | grep -qE -- "$2"; then echo "ok - $3"; else
		echo "not ok - $3"; echo "#   got:  '$1'"; echo "#   want: /$2/"; failures=$((failures + 1)); fi
}
diag() { printf '# %s\n' "$@"; }

free_port() { # a TCP/RDMA port nobody listens on
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 20000))
		ss -Hltn "sport = :$p" | grep -q . || { echo $p; return; }
	done
	echo 7471
}

# export_conf NAME PATH SIZE [ACCESS [MODE]]: one [export] section for
# daemon_start's CONF_BODY; rw and dax unless told.
export_conf() {
	printf '[export %s]\npath = %s\nsize = %s\naccess = %s\nmode = %s\n' \
		"$1" "$2" "$3" "${4:-rw}" "${5:-dax}"
}

# daemon_start NAME CONF_BODY: writes $PWD/NAME.conf ([sealmrd] section made
# here, exports from CONF_BODY), starts sealmrd in the foreground, waits until
# it answers on its admin socket. Sets PORT, DPID, STATE, DLOG, DSOCK. LISTEN_ADDR overrides the address.
daemon_start() {
	local name=$1 body=$2
	PORT=$(free_port)
	STATE=$PWD/$name.state
	DLOG=$PWD/$name.log
	mkdir -p "$STATE"
	cat > "$PWD/$name.conf" <<CONF
[sealmrd]
listen = ${LISTEN_ADDR:-$RDMA_ADDR}:$PORT
state_dir = $STATE
admin_socket = $STATE/admin.sock
log_level = info

$body
CONF
	"$SEALMRD" -c "$PWD/$name.conf" > "$DLOG" 2>&1 &
	DPID=$!
	# The socket the daemon will open: the last admin_socket line wins.
	DSOCK=$(sed -n 's/^admin_socket *= *//p' "$PWD/$name.conf" | tail -n 1)
	daemon_ready $DPID "$DSOCK" && return 0
	diag "sealmrd did not start:"; sed 's/^/#   /' "$DLOG"
	return 1
}

# daemon_ready PID SOCKET: waits up to 30 s until the daemon PID answers a
# stats request on its admin socket, which it opens once it listens for
# RDMA clients. Fails at once when PID exits. A socket file left by a daemon
# that was killed answers nobody, so a restart on the same state directory
# is not taken for ready.
daemon_ready() {
	local pid=$1 sock=$2
	for _ in $(seq 300); do
		# The test for the file is free; sealmrctl only once it can answer.
		if [ -S "$sock" ] && "$SEALMRCTL" -s "$sock" stats > /dev/null 2>&1; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

daemon_stop() { # SIGTERM, wait; returns the daemon's exit code
	[ -n "${DPID:-}" ] || return 0
	kill -TERM $DPID 2>/dev/null
	local rc=0
	wait $DPID || rc=$?
	DPID=
	return $rc
}

daemon_log() { sed 's/^/#   log: /' "$DLOG"; }

rand_file() { # rand_file PATH SIZE_MIB
	head -c $(($2 * 1048576)) /dev/urandom > "$1"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

is_immutable() { lsattr -d "$1" 2>/dev/null | cut -d' ' -f1 | grep -q i; }

# holder_start NAME ARGS...: a holder on two fifos; ask NAME "CMD" prints its answer.
declare -A HIN HOUT HPID
holder_start() {
	local name=$1 w r; shift
	mkfifo "$name.in" "$name.out"
	"$TOOLS/holder" "$@" < "$name.in" > "$name.out" 2>&1 &
	HPID[$name]=$!
	exec {w}> "$name.in" {r}< "$name.out"
	HIN[$name]=$w HOUT[$name]=$r
}
ask() { # ask NAME CMD: the answer line, callback lines before it on stderr
	local name=$1 line
	echo "$2" >&${HIN[$name]}
	while IFS= read -r -t 60 line <&${HOUT[$name]}; do
		case $line in
		ok*|err*) echo "$line"; return 0 ;;
		*) echo "$line" >&2 ;;
		esac
	done
	echo "no answer"
}

finish() { exit $((failures > 0)); }

# A test that dies half-way must not poison the rest of the boot: whatever
# it left running (daemons, holders, clients in the background) is killed
# when it exits, however it exits, and the immutable flags that killed
# daemons left on the VM's file systems are lifted. Tests add their own
# undo steps with at_exit, not with a trap of their own.
AT_EXIT=()
at_exit() { AT_EXIT+=("$*"); }
lib_cleanup() {
	local c p f left=
	for c in ${AT_EXIT[@]+"${AT_EXIT[@]}"}; do eval "$c"; done
	for p in $(jobs -p) ${DPID:-}; do
		kill -0 "$p" 2>/dev/null || continue
		kill -KILL "$p" 2>/dev/null && left="$left $p"
	done
	for p in $left; do wait "$p" 2>/dev/null; done
	[ -z "$left" ] || diag "cleanup: killed what the test left running:$left"
	lsattr -R /mnt/dax-xfs /mnt/dax-ext4 /mnt/nodax "$PWD" 2>/dev/null |
		awk '$1 ~ /i/ && NF >= 2 { print $2 }' | while read -r f; do
			chattr -i "$f" 2>/dev/null && diag "cleanup: lifted the immutable flag left on $f"
		done
}
trap lib_cleanup EXIT
