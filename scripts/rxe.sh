#!/usr/bin/env bash
# usage: scripts/rxe.sh [-k KERNEL] [-m MODE] [-x odp|refused] [-P] [-n NAME] [-s SHIFT] [-l LOG]
# RDMA on-demand paging on soft-RoCE (rxe), from user space: boots the test
# kernel (default build/out/kunit/arch/x86/boot/bzImage; KUnit off) in the
# mode MODE of configs/modes (default none; its devices and command line,
# without edu and the NVMe controllers) with a busybox initramfs (cached in
# build/results/rxe) holding libibverbs, the rxe provider, ibverbs-utils,
# iproute2's ip and rdma, and scripts/rxe/odp.c.  The guest makes a veth
# pair, puts rxe0 on veth0 (10.77.0.1/24) and runs, on rxe0 alone (both
# ends of every test in the one guest, RoCE v2 on the IPv4 GID):
#   - ibv_devinfo -v: the ODP capabilities of rxe0;
#   - controls without ODP: ibv_rc_pingpong, ibv_ud_pingpong,
#     ibv_srq_pingpong, and odp.c's cases on pinned MRs (-p);
#   - -x odp (the default): ibv_rc_pingpong -o at 4 KiB and 64 KiB,
#     ibv_srq_pingpong -o (ibv_ud_pingpong has no -o in rdma-core 44: a
#     SKIP), ibv_rc_pingpong -O refused (no implicit ODP), and every case
#     of odp.c on ODP MRs (faults, MADV_DONTNEED, read-only memory, atomics,
#     ibv_reg_mr_iova, munmap/MAP_FIXED, fork, invalidations racing
#     traffic);
#   - -x refused (a kernel whose rxe has no ODP, e.g. the base tree): the
#     controls pass, and ibv_devinfo shows no ODP, ibv_rc_pingpong -o and
#     -O, ibv_srq_pingpong -o and odp.c's ODP registration are refused.
# A boot fails on a FAIL line, an unfinished boot or any kernel warning.
#   -P         also run rdma-core's tests/test_odp.py through pyverbs, last
#              (scripts/rxe/pyverbs_odp.py: a line per test; python3.11
#              and Debian's python3-pyverbs, downloaded into build/debs and
#              unpacked, not installed, in a second cached initramfs,
#              initramfs-pyverbs.cpio).  -x odp: 7 tests pass, the 10
#              others skip, each for a known reason only (no implicit ODP
#              and no advise_mr in rxe, no 2 MiB huge pages in the test
#              kernel, no XRC in rxe); -x refused: every test skips with
#              'No ODP caps' (or the huge page or XRC reason), and a pass
#              is a FAIL.  Another skip reason is a FAIL in both.
#   -s SHIFT   boot under -icount shift=SHIFT,sleep=off (default: plain TCG,
#              both vCPUs at once; under -icount the zap-race case stalled
#              the guest in 3 boots of 6: RCU stalls, 10 s without a
#              completion)
#   -l LOG     no boot: check a log of an earlier run and print its row
# Prints a one-row table (mode, passed/failed/skipped, status, wall time);
# writes build/results/rxe/{MODE.log,MODE.problems,totals}; with -n NAME,
# the row, the log and the problems are NAME's and the counts go to
# NAME.totals (test.sh runs the base tree's kernel so, beside the series').
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() { sed -n '2,/^# shellcheck/{/^# shellcheck/d;s/^# \{0,1\}//p}' "$0" >&2; exit 2; }
mode=none expect=odp shift_="" checklog="" pyverbs="" rowname=""
kernel=$(outdir kunit)/arch/x86/boot/bzImage
while getopts k:m:x:Pn:s:l:h o; do
	case $o in
	k) kernel=$OPTARG ;;
	m) mode=$OPTARG ;;
	x) expect=$OPTARG ;;
	P) pyverbs=1 ;;
	n) rowname=$OPTARG ;;
	s) shift_=$OPTARG ;;
	l) checklog=$OPTARG ;;
	*) usage ;;
	esac
done
[ $OPTIND -gt $# ] || usage
case $expect in odp | refused) ;; *) usage ;; esac

res=$BUILD/results/rxe
mkdir -p "$res"
qboot=/usr/share/qemu/qboot.rom
# the rxe provider: libibverbs dlopens it, ldd does not list it
provider=/usr/lib/x86_64-linux-gnu/libibverbs/librxe-rdmav34.so
driver=/etc/libibverbs.d/rxe.driver
tools=(ibv_devinfo ibv_rc_pingpong ibv_srq_pingpong ibv_ud_pingpong ip rdma)
# -P: the guest's python (the one pyverbs is built for) and the wrapper
python=/usr/bin/python3.11
pyverbs_py=$TOP/scripts/rxe/pyverbs_odp.py

# Sets p f s (counts), status and problems for the boot in LOG; writes the
# problems to LOG's .problems file.
check() { # LOG
	local log=$1 line n
	problems=()
	p=$(grep -c '^rxe-test: ok ' "$log" || true)
	f=$(grep -c '^rxe-test: FAIL ' "$log" || true)
	s=$(grep -c '^rxe-test: SKIP ' "$log" || true)
	if [ "$f" != 0 ]; then
		problems+=("FAILED: $(sed -n 's/^rxe-test: FAIL \([^ ]*\).*/\1/p' "$log" | paste -sd' ')")
	fi
	# The guest's own count, on its last line, must match the lines
	# counted (a kernel message cut into a result line would hide it).
	line=$(tr -d '\r' <"$log" | sed -n 's/^rxe-test: done: //p' | tail -n1)
	if [ -z "$line" ]; then
		if grep -q '^rxe-test: ' "$log"; then
			problems+=("the guest did not finish")
		else
			problems+=("did not boot")
		fi
	elif [ "$line" != "$p ok, $f failed, $s skipped" ]; then
		problems+=("the guest counted $line, the log shows $p/$f/$s")
	fi
	if [ -n "$pyverbs" ] && ! grep -q '^rxe-test: [a-zA-Z]* pyverbs/' "$log"; then
		problems+=("-P: no result of rdma-core's test_odp.py")
	fi
	# Any warning, oops or panic (no test here provokes one).
	if ! line=$(python3 "$TOP/scripts/kernel-warnings.py" "$log"); then
		problems+=("kernel: ${line%%$'\n'*}")
	fi
	# Each problem but the FAIL lines (counted already) fails one more test.
	n=${#problems[@]}
	[ "$f" = 0 ] || n=$((n - 1))
	f=$((f + n))
	status=ok
	[ ${#problems[@]} = 0 ] || status=${problems[0]:0:90}
	[ ${#problems[@]} -le 1 ] || status+=" (+$((${#problems[@]} - 1)) more)"
	: >"${log%.log}.problems"
	[ ${#problems[@]} = 0 ] || printf '%s\n' "${problems[@]}" >"${log%.log}.problems"
}

row() { # NAME P F S STATUS SECONDS
	printf '%-14s %7d %7d %7d  %s (%ds)\n' "$@"
}
header() {
	printf '%-14s %7s %7s %7s  %s\n' mode passed failed skipped status
}

if [ -n "$checklog" ]; then
	[ -f "$checklog" ] || die "no log $checklog"
	check "$checklog"
	header
	row "$(basename "$checklog" .log)" "$p" "$f" "$s" "$status" 0
	exit $((f > 0))
fi

totals=$res/${rowname:+$rowname.}totals
rm -f "$totals"	# written when the boot has been judged
[ -f "$kernel" ] || die "no kernel at $kernel: run 'make build' first"
[ -f "$qboot" ] || die "$qboot missing: run scripts/deps.sh"
for t in "${tools[@]}" cpio gcc; do
	command -v "$t" >/dev/null || die "$t missing: run scripts/deps.sh"
done
for t in "$provider" "$driver" /usr/include/infiniband/verbs.h; do
	[ -f "$t" ] || die "$t missing: run scripts/deps.sh"
done

# The guest's /init.  Prints one line per test, 'rxe-test: ok NAME',
# 'rxe-test: FAIL NAME (why)' or 'rxe-test: SKIP NAME (why)', then
# 'rxe-test: done: N ok, N failed, N skipped', and powers off.
write_init() { # FILE
	cat >"$1" <<'EOF'
#!/bin/sh
# seconds a pingpong end, an odp.c case, rdma-core's test_odp.py (-P)
# may take (busybox timeout: exit 143 when it had to kill)
PP_TIMEOUT=120 ODP_TIMEOUT=180 PY_TIMEOUT=600
# exchanges per pingpong (srq: per QP, 16 QPs)
PP_ITERS=200 SRQ_ITERS=20
# what rxe0 gets: the address on veth0, and its IPv4-mapped GID's tail
ADDR=10.77.0.1/24 GID_TAIL=ffff:0a4d:0001

export PATH=/usr/bin:/usr/sbin:/bin
# iproute2's ip, not busybox's (which the shell prefers, whatever PATH says)
IP=/usr/bin/ip
mount -t proc proc /proc
mount -t sysfs sys /sys
mdev -s				# no devtmpfs in the test kernel
cd /tmp || exit
expect=$(sed -n 's/.*rxe_test\.expect=\([a-z]*\).*/\1/p' /proc/cmdline)
echo "rxe-test: expecting ${expect:=odp}"

ok=0 failed=0 skipped=0
read -r last _ </proc/uptime
result() { # ok|FAIL|SKIP NAME [WHY]
	read -r up _ </proc/uptime
	echo "rxe-test: $1 $2${3:+ ($3)} [$((${up%.*} - ${last%.*})) s]"
	last=$up
	case $1 in
	ok) ok=$((ok + 1)) ;;
	FAIL) failed=$((failed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	esac
}
finish() {
	echo "rxe-test: done: $ok ok, $failed failed, $skipped skipped"
	sync
	poweroff -f
	while :; do sleep 1000; done
}
indent() { sed 's/^/    /' "$@"; }
# Run CMD...; on failure print its output and fail the test NAME.
step() { # NAME CMD...
	t=$1
	shift
	"$@" >/tmp/out 2>&1 && return
	indent /tmp/out
	result FAIL "$t" "$*"
	return 1
}

# rxe0 on veth0, both ends of the pair up (else no carrier: the port stays
# down); out-of-band TCP of the pingpongs over lo.
step setup $IP link set lo up &&
	step setup $IP link add veth0 type veth peer name veth1 &&
	step setup $IP addr add $ADDR dev veth0 &&
	step setup $IP link set veth0 up &&
	step setup $IP link set veth1 up &&
	step setup rdma link add rxe0 type rxe netdev veth0 || finish
# libibverbs opens /dev/infiniband/uverbsN: mdev makes /dev/uverbsN at best
mkdir -p /dev/infiniband
for d in /sys/class/infiniband_verbs/uverbs*; do
	[ -e "$d/dev" ] || continue
	n=${d##*/}
	[ -c /dev/infiniband/$n ] && continue
	IFS=: read -r major minor <"$d/dev"
	mknod /dev/infiniband/$n c "$major" "$minor"
	echo "rxe-test: made /dev/infiniband/$n ($major:$minor)"
done
# the port active and the IPv4 GID in the table (the index the tests use)
port=/sys/class/infiniband/rxe0/ports/1
gidx=
i=0
while [ $i -lt 30 ]; do
	for g in 0 1 2 3 4 5 6 7; do
		case $(cat $port/gids/$g 2>/dev/null) in
		*$GID_TAIL) gidx=$g ;;
		esac
		[ -n "$gidx" ] && break
	done
	case $(cat $port/state) in *ACTIVE*) [ -n "$gidx" ] && break ;; esac
	sleep 1
	i=$((i + 1))
done
echo "rxe-test: rxe0 port 1: $(cat $port/state), GID $(cat $port/gids/${gidx:-0}) at index ${gidx:-none} ($(cat $port/gid_attrs/types/${gidx:-0} 2>/dev/null))"
if [ -z "$gidx" ]; then
	for g in 0 1 2 3; do echo "    gid $g: $(cat $port/gids/$g 2>/dev/null)"; done
	result FAIL setup "no GID for $ADDR on rxe0 after 30 s"
	finish
fi
result ok setup

# ibv_devinfo -v: the lines of one ODP section (e.g. rc_odp_caps:)
caps() { # SECTION
	awk -v s="$1" '$1 == s { on = 1; next } /^\t[a-z_]+:/ { on = 0 } on { print $1 }' /tmp/devinfo
}
# Whether the section SECTION of ibv_devinfo -v lists every CAP.
has_caps() { # SECTION CAP...
	s=$1
	shift
	for c; do
		caps "$s" | grep -qx "$c" || { echo "$s lacks $c"; return 1; }
	done
}
devinfo_test() {
	if ! ibv_devinfo -v -d rxe0 >/tmp/devinfo 2>&1; then
		indent /tmp/devinfo
		result FAIL "$1/devinfo-caps" "ibv_devinfo -v failed"
		return
	fi
	grep -E -A12 'general_odp_caps:' /tmp/devinfo | indent
	if [ "$expect" = odp ]; then
		if why=$(has_caps general_odp_caps: ODP_SUPPORT &&
			has_caps rc_odp_caps: SUPPORT_SEND SUPPORT_RECV SUPPORT_WRITE \
				SUPPORT_READ SUPPORT_ATOMIC &&
			has_caps ud_odp_caps: SUPPORT_SEND SUPPORT_RECV); then
			result ok odp/devinfo-caps
		else
			result FAIL odp/devinfo-caps "$why"
		fi
	elif caps general_odp_caps: | grep -qx ODP_SUPPORT; then
		result FAIL refused/devinfo-caps "rxe0 reports ODP_SUPPORT"
	else
		result ok refused/devinfo-caps
	fi
}

# Whether something listens on the TCP port PORT (v4 or v6).
listening() { # PORT
	h=$(printf ':%04X ' "$1")
	grep -q "$h[0-9A-F:]* 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
tcp_port=18515
# Start the server end of a pingpong in the background (pid $srv) and wait
# until it listens on $tcp_port (0) or has exited (1).
server() { # PROG OPTION...
	tcp_port=$((tcp_port + 1))
	timeout $PP_TIMEOUT "$@" -d rxe0 -g "$gidx" -p $tcp_port >/tmp/srv 2>&1 &
	srv=$!
	i=0
	while [ $i -lt 100 ]; do
		listening $tcp_port && return 0
		kill -0 $srv 2>/dev/null || return 1
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
# Both ends of a pingpong on rxe0, the client to 127.0.0.1: the test NAME.
pingpong() { # NAME PROG OPTION...
	n=$1
	shift
	if ! server "$@"; then
		kill $srv 2>/dev/null
		wait $srv
		rc=$?
		indent /tmp/srv
		result FAIL "$n" "the server did not listen (exit $rc)"
		return
	fi
	timeout $PP_TIMEOUT "$@" -d rxe0 -g "$gidx" -p $tcp_port 127.0.0.1 >/tmp/cli 2>&1
	crc=$?
	wait $srv
	src=$?
	if [ $crc = 0 ] && [ $src = 0 ] && grep -q ' iters in ' /tmp/cli; then
		grep -E 'bytes in|iters in' /tmp/cli | indent
		result ok "$n"
	else
		echo "    server:"; indent /tmp/srv
		echo "    client:"; indent /tmp/cli
		result FAIL "$n" "server exit $src, client exit $crc (143: timed out)"
	fi
}
# A pingpong that must refuse to start, saying WHY (grep -E) before it
# listens: the test NAME.  Only the server end runs.
refused() { # NAME WHY PROG OPTION...
	n=$1 why=$2
	shift 2
	if server "$@"; then
		kill $srv 2>/dev/null
		wait $srv
		indent /tmp/srv
		result FAIL "$n" "not refused: the server listens"
		return
	fi
	wait $srv
	rc=$?
	indent /tmp/srv
	if [ $rc != 0 ] && [ $rc != 143 ] && grep -qE "$why" /tmp/srv; then
		result ok "$n" "exit $rc: $(grep -E "$why" /tmp/srv | head -n1)"
	else
		result FAIL "$n" "exit $rc, no '$why'"
	fi
}
# odp.c with ARGS as the test NAME: its 'ok|FAIL|SKIP CASE (why)' line
# becomes the result, the rest of its output is shown.
odp_case() { # NAME ARG...
	n=$1
	shift
	timeout $ODP_TIMEOUT /usr/bin/odp -d rxe0 -g "$gidx" "$@" >/tmp/odp 2>&1
	rc=$?
	got=
	while IFS= read -r l; do
		case $l in
		"ok "*) got=ok why= ;;
		"FAIL "*) got=FAIL why=${l#FAIL * (} why=${why%)} ;;
		"SKIP "*) got=SKIP why=${l#SKIP * (} why=${why%)} ;;
		*) echo "    $l" ;;
		esac
	done </tmp/odp
	if [ -z "$got" ]; then
		result FAIL "$n" "exit $rc (143: timed out), no result"
	elif [ $got = ok ] && [ $rc != 0 ]; then
		result FAIL "$n" "said ok, exit $rc"
	else
		result $got "$n" "$why"
	fi
}

# -P (only its initramfs has /opt/rdma-core): rdma-core's tests/test_odp.py
# through pyverbs.  pyverbs_odp.py judges each test against $expect and
# prints its rxe-test line as the test ends (through a FIFO: they reach the
# console as they come); here they are counted.
pyverbs_odp() {
	[ -f /opt/rdma-core/pyverbs_odp.py ] || return 0
	rm -f /tmp/pyverbs.fifo
	mkfifo /tmp/pyverbs.fifo
	HOME=/tmp timeout $PY_TIMEOUT python3 -u /opt/rdma-core/pyverbs_odp.py \
		"$expect" /opt/rdma-core/tests/run_tests.py --dev rxe0 \
		--gid "$gidx" test_odp >/tmp/pyverbs.fifo 2>/tmp/pyverbs.err &
	pid=$!
	while IFS= read -r l; do
		case $l in
		"rxe-test: ok "*) ok=$((ok + 1)) ;;
		"rxe-test: FAIL "*) failed=$((failed + 1)) ;;
		"rxe-test: SKIP "*) skipped=$((skipped + 1)) ;;
		*) l="    $l" ;;
		esac
		echo "$l"
	done </tmp/pyverbs.fifo
	wait $pid
	rc=$?
	sed -e '/^$/d' -e 's/^/    /' /tmp/pyverbs.err
	read -r last _ </proc/uptime
	[ $rc = 0 ] || result FAIL pyverbs/run "exit $rc (143: timed out)"
}

PP="-n $PP_ITERS -c -e"
devinfo_test
pingpong control/rc_pingpong ibv_rc_pingpong $PP
pingpong control/ud_pingpong ibv_ud_pingpong -n $PP_ITERS -c -e -s 1024
pingpong control/srq_pingpong ibv_srq_pingpong -n $SRQ_ITERS -c -e
for c in $(/usr/bin/odp -l -p); do
	odp_case control/$c -p "$c"
done
if [ "$expect" = odp ]; then
	pingpong odp/rc_pingpong-o-4k ibv_rc_pingpong $PP -o -s 4096
	pingpong odp/rc_pingpong-o-64k ibv_rc_pingpong $PP -o -s 65536
	pingpong odp/srq_pingpong-o ibv_srq_pingpong -n $SRQ_ITERS -c -e -o
	result SKIP odp/ud_pingpong-o "ibv_ud_pingpong has no ODP option in rdma-core 44"
	refused refused/rc_pingpong-O "support implicit ODP" ibv_rc_pingpong -O
	for c in $(/usr/bin/odp -l); do
		odp_case odp/$c "$c"
	done
else
	refused refused/rc_pingpong-o "isn't ODP capable" ibv_rc_pingpong -o
	refused refused/srq_pingpong-o "isn't ODP capable" ibv_srq_pingpong -o
	refused refused/rc_pingpong-O "isn't ODP capable|support implicit ODP" ibv_rc_pingpong -O
	odp_case refused/odp-mr -r
fi
pyverbs_odp
finish
EOF
	chmod +x "$1"
}

# -P: python3-pyverbs at the version of the installed libibverbs1,
# downloaded with apt-get into build/debs (not installed: it depends on
# rdma-core, its services and udev).  Prints the .deb's path.
pyverbs_deb() {
	local ver dir=$BUILD/debs deb get
	# shellcheck disable=SC2016 # a dpkg-query format, not a variable
	ver=$(dpkg-query -W -f='${Version}' libibverbs1) ||
		die "libibverbs1 missing: run scripts/deps.sh"
	deb=$dir/python3-pyverbs_${ver//:/%3a}_amd64.deb
	[ -s "$deb" ] && { printf '%s\n' "$deb"; return; }
	mkdir -p "$dir"
	msg "apt-get download python3-pyverbs=$ver (into $dir)"
	# (as root: into a folder the _apt user may not write to)
	get=(apt-get download -qq -o APT::Sandbox::User=root "python3-pyverbs=$ver")
	(cd "$dir" && "${get[@]}" >&2) ||
		{ apt-get update -q >/dev/null && (cd "$dir" && "${get[@]}" >&2); } ||
		die "cannot download python3-pyverbs=$ver"
	[ -s "$deb" ] || die "apt-get download made no $deb"
	touch "$deb"	# newer than the initramfs it is not in yet
	printf '%s\n' "$deb"
}

# -P: what the tests never import, left out of the guest's python3.11
# (top-level names of its standard library, then of lib-dynload/).
py_skip=(config-3.11-x86_64-linux-gnu test idlelib tkinter turtledemo
	lib2to3 pydoc_data distutils ensurepip venv site-packages asyncio email
	xml http xmlrpc html wsgiref sqlite3 dbm curses concurrent tomllib)
dynload_skip=('_test*' _ctypes_test '_xx*' 'xxlimited*' _sqlite3 _dbm
	_gdbm '_curses*' readline nis ossaudiodev audioop '_codecs_*' _crypt
	_ssl _hashlib _tkinter _asyncio)

# -P: add to the initramfs root ROOT python3.11 and its standard library
# (less the above), pyverbs and rdma-core's tests/ from the .deb DEB (in
# /opt/rdma-core/tests, gunzipped: Debian ships them as documentation),
# the libraries of every extension module, pyverbs_odp.py, and the
# bytecode of what is not in the standard library.
add_pyverbs() { # ROOT DEB
	local root=$1 py=/usr/lib/python3.11 dist=/usr/lib/python3/dist-packages
	local x=$res/python3-pyverbs d ex=()
	copy_with_libs "$python" "$root" /usr/bin/python3.11
	ln -s python3.11 "$root/usr/bin/python3"
	for d in "${py_skip[@]}"; do ex+=(--exclude="/$d"); done
	for d in "${dynload_skip[@]}"; do
		ex+=(--exclude="/lib-dynload/$d.cpython-*.so")
	done
	mkdir -p "$root$py"
	rsync -aL "${ex[@]}" "$py/" "$root$py/"
	rm -rf "$x"
	dpkg -x "$2" "$x"
	mkdir -p "$root$dist" "$root/opt/rdma-core"
	cp -a "$x$dist/pyverbs" "$root$dist/"
	cp -a "$x/usr/share/doc/rdma-core/tests" "$root/opt/rdma-core/"
	rm -rf "$x"
	gunzip "$root"/opt/rdma-core/tests/*.gz
	cp "$pyverbs_py" "$root/opt/rdma-core/"
	find "$root$py/lib-dynload" "$root$dist/pyverbs" -name '*.so' \
		-exec ldd {} + >"$res/ldd.out"
	! grep 'not found' "$res/ldd.out" >&2 ||
		die "-P: libraries missing on the host: run scripts/deps.sh"
	grep '^[[:space:]]' "$res/ldd.out" | grep -o '/[^ ]*' | sort -u |
		while IFS= read -r l; do
			[ -e "$root$l" ] && continue
			mkdir -p "$root$(dirname "$l")"
			cp -L "$l" "$root$l"
		done
	rm -f "$res/ldd.out"
	"$python" -m compileall -q -s "$root" "$root$dist/pyverbs" \
		"$root/opt/rdma-core" >/dev/null ||
		die "-P: cannot compile pyverbs and the tests"
}

# The initramfs: busybox, the tools with the libraries they link, the rxe
# provider and its driver file, odp.c built here; with -P (another file,
# initramfs-pyverbs.cpio) also what add_pyverbs adds.  Uncompressed;
# rebuilt when this script, lib.sh, odp.c or a tool is newer (-P: or the
# .deb, pyverbs_odp.py or python3.11).
cpio=$res/initramfs.cpio
odp_c=$TOP/scripts/rxe/odp.c
inputs=("$0" "$TOP/scripts/lib.sh" "$odp_c" "$provider" "$driver")
for t in "${tools[@]}"; do
	inputs+=("$(command -v "$t")")
done
if [ -n "$pyverbs" ]; then
	for t in "$python" rsync dpkg apt-get; do
		command -v "$t" >/dev/null || die "$t missing: run scripts/deps.sh"
	done
	deb=$(pyverbs_deb)
	cpio=$res/initramfs-pyverbs.cpio
	inputs+=("$deb" "$pyverbs_py" "$python")
fi
fresh=1
[ -s "$cpio" ] || fresh=0
for f in "${inputs[@]}"; do
	[ "$f" -nt "$cpio" ] && fresh=0
done
if [ $fresh = 0 ]; then
	msg "building the initramfs ($cpio)"
	root=${cpio%.cpio}
	initramfs_skeleton "$root"
	for t in "${tools[@]}"; do
		copy_with_libs "$(command -v "$t")" "$root" "/usr/bin/$t"
	done
	copy_with_libs "$provider" "$root" "$provider"
	mkdir -p "$root$(dirname "$driver")"
	cp "$driver" "$root$driver"
	gcc -O2 -Wall -Wextra -Werror -o "$res/odp" "$odp_c" -libverbs ||
		die "cannot build $odp_c"
	copy_with_libs "$res/odp" "$root" /usr/bin/odp
	rm -f "$res/odp"
	if [ -n "$pyverbs" ]; then
		add_pyverbs "$root" "$deb"
	fi
	write_init "$root/init"
	initramfs_pack "$root" "$cpio.tmp"
	mv "$cpio.tmp" "$cpio"
	rm -rf "$root"
fi

# The boot: the mode's QEMU devices and command line from configs/modes
# (not edu, not the NVMe controllers: nothing here does DMA; '@switch'
# only places those), the '# qemu:' line of configs/kunit.config (-smp 2).
# Plain TCG unless -s: the two vCPUs run at once, so the zapper and the
# copies race for real.
line=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e 's/[[:space:]]*|[[:space:]]*/|/g' \
	"$TOP/configs/modes" | grep "^$mode|") || die "no mode '$mode' in configs/modes"
IFS='|' read -r name _ devices cmdline <<<"$line"
[ -z "$rowname" ] || name=$rowname
devices=${devices/@switch/}
read -ra extra <<<"$(sed -n 's/^# qemu: *//p' "$TOP/configs/kunit.config")"
icount=()
[ -z "$shift_" ] || icount=(-icount "shift=$shift_,sleep=off")
log=$res/$name.log
append="console=ttyS0 panic=-1 spec_rstack_overflow=off kunit.enable=0 rxe_test.expect=$expect $cmdline"
qemu=""
trap '[ -z "$qemu" ] || kill "$qemu" 2>/dev/null' EXIT
trap 'exit 130' INT TERM

start=$SECONDS
rm -f "$log"	# an old log would look finished at once
# shellcheck disable=SC2086 # $devices is a list of QEMU arguments
qemu-system-x86_64 -M q35 -m 1G -nodefaults -nographic \
	-no-reboot -serial stdio -bios "$qboot" \
	"${icount[@]}" -kernel "$kernel" -initrd "$cpio" -append "$append" \
	"${extra[@]}" $devices </dev/null >"$log" 2>&1 &
qemu=$!
stop_guest_when "$qemu" 1200 "$log" grep -qs '^rxe-test: done' "$log"
qemu=""
check "$log"
header
row "$name" "$p" "$f" "$s" "$status" $((SECONDS - start))
echo "$p $f $s" >"$totals"
exit $((f > 0))
