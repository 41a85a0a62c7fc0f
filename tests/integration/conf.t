#!/bin/bash
# Bad configuration files: sealmrd refuses each at start, before it touches
# a device, with exit status 2 and one line "sealmrd: FILE:LINE: reason"
# naming the line at fault and what is wrong with it. A good file starts.
. "$SEALMR_TOP_SRCDIR/tests/integration/lib.sh"

F=/mnt/dax-xfs/conf-$$
truncate -s 4M $F
head="[sealmrd]
listen = $RDMA_ADDR:$(free_port)
state_dir = $PWD/conf.state
admin_socket = $PWD/conf.state/admin.sock
"
good="[export a]
path = $F
size = 4M
access = rw
mode = dax
clients = 10.0.2.0/24"

# refused NAME LINE CAUSE_REGEX BODY: BODY after the [sealmrd] section (6
# lines, so BODY's first line is line 6 of the file) must be refused at
# LINE with a message matching CAUSE_REGEX.
refused() {
	local name=$1 line=$2 cause=$3 body=$4 file=$PWD/$1.conf out rc
	printf '%s\n%s\n' "$head" "$body" > "$file"
	out=$(timeout 20 "$SEALMRD" -c "$file" 2>&1 < /dev/null)
	rc=$?
	is "$rc" 2 "$name: sealmrd exits 2"
	like "$out" "^sealmrd: $file:$line: .*$cause" "$name: refused at $file:$line, saying why"
	is "$(printf '%s\n' "$out" | wc -l)" 1 "$name: one line"
	diag "$name: $out"
}

refused missing-path 13 "\[export b\] needs path = /FILE" "$good

[export b]
size = 4M"
# inih keeps 200 bytes of a line: a longer one was cut in two (the rest
# parsed as a line of its own, or a path silently shortened).
refused long-line 7 "line longer than 198 bytes" "[export a]
path = /$(printf 'a%.0s' $(seq 250))
size = 4M"
refused empty-export 13 "\[export b\] needs path = /FILE" "$good

[export b]"
refused missing-size 13 "\[export b\] needs size = BYTES" "$good

[export b]
path = $F"
refused bad-size 8 "size = 12Q: want a byte count" "[export a]
path = $F
size = 12Q"
refused unaligned-size 8 "size = 5000: must be a multiple of 4096" "[export a]
path = $F
size = 5000"
refused relative-path 7 "path = data/x: want an absolute path" "[export a]
path = data/x
size = 4M"
refused bad-cidr 11 "clients: '10.0.2.0/33' is not an IPv4 address or CIDR" "[export a]
path = $F
size = 4M
access = rw
mode = dax
clients = 10.0.2.0/24, 10.0.2.0/33"
refused bad-cidr-address 11 "clients: '10.0.300.0/24' is not an IPv4 address or CIDR" "[export a]
path = $F
size = 4M
access = rw
mode = dax
clients = 10.0.300.0/24"
refused duplicate-export 13 "export 'a' defined twice" "$good

[export a]
path = $F
size = 4M"
refused unknown-export-key 9 "unknown key 'colour' in \[export a\]" "[export a]
path = $F
size = 4M
colour = blue"
refused unknown-daemon-key 6 "unknown key 'threads' in \[sealmrd\]" "threads = 4
$good"
refused count-with-a-suffix 6 "max_clients = 1K: want a count, 1..65536" "max_clients = 1K
$good"
refused unknown-section 6 "unknown section \[exports\]" "[exports]
path = $F"
refused bad-access 9 "access = rx: want rw or ro" "[export a]
path = $F
size = 4M
access = rx"
refused bad-mode 9 "mode = fsdax: want dax or pagecache" "[export a]
path = $F
size = 4M
mode = fsdax"

# listen is in [sealmrd]: these replace the header's listen line (line 2).
head_listen() { printf '%s\n' "$head" | sed "2s|.*|listen = $1|"; }
for bad in "$RDMA_ADDR:no-port-number" "$RDMA_ADDR:70000" "$RDMA_ADDR" "10.0.2.999:7471"; do
	file=$PWD/listen.conf
	{ head_listen "$bad"; printf '%s\n' "$good"; } > "$file"
	out=$(timeout 20 "$SEALMRD" -c "$file" 2>&1 < /dev/null)
	rc=$?
	is "$rc" 2 "listen = $bad: sealmrd exits 2"
	like "$out" "^sealmrd: $file:2: listen = $bad: (want ADDRESS:PORT|bad port|bad address)" \
		"listen = $bad: refused at $file:2, saying why"
	diag "listen = $bad: $out"
done

# The same checks on a reload: the daemon keeps its configuration, says
# why with FILE:LINE, and goes on serving.
printf '%s\n%s\n' "$head" "$good" > good.conf
"$SEALMRD" -c good.conf > good.log 2>&1 &
DPID=$! DLOG=$PWD/good.log
daemon_ready $DPID "$PWD/conf.state/admin.sock"
like "$(cat good.log)" "listening on" "the good file starts the daemon"
A=$(sed -n 's/^listen = //p' good.conf)
printf '%s\n%s\n' "$head" "[export a]
path = $F
size = 4M
access = maybe" > good.conf
kill -HUP $DPID
for _ in $(seq 100); do grep -q 'good.conf:9' good.log && break; sleep 0.1; done
like "$(cat good.log)" "good.conf:9: access = maybe: want rw or ro" \
	"a reload with a bad access value is refused with FILE:LINE and why"
like "$($SEALMR ls $A 2>&1)" "^a " "and the daemon still serves its old exports"
ok "the daemon stops cleanly" daemon_stop
rm -f $F
finish
