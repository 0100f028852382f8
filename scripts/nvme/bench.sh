# shellcheck shell=sh disable=SC2154 # $dev, $sys, $eng: set by /init
# The NVMe benchmark in the guest (scripts/nvme.sh -b).  The initramfs's
# /init sources this file, once it has found the disk ($dev, its sysfs
# directory $sys) and fio's engine ($eng), when the kernel command line has
# nvme_bench.runs=N; it never returns.
#
# The guest writes the whole disk once (reads then return data), then runs
# each job of BENCH_JOBS N times on each data path of nvme-pci, alternating
# them: the scatterlist ('sg', nvme.dma_iter=N), then the block layer's DMA
# iterator ('iter', =Y; where the kernel has the parameter), sg, iter, ...
# Each time it runs the job first for one I/O (what fio's start-up and the
# bracketing cost, subtracted on the host), then for the job's count of
# I/Os.  Every run is one fio process, direct I/O on io_uring, with fio's
# default random seed (the same offsets every run).
#
# Busy time: between two markers that fio's exec_prerun and exec_postrun
# write into the trace buffer (after the job's set-up, after its last I/O),
# the guest time each CPU spent outside its idle task, and inside it from
# the first device interrupt handler (the completion work done there) until
# it idles again.  This kernel ticks periodically and keeps no precise idle
# time (no NO_HZ: /proc/timer_list has no idle_sleeptime, and /proc/stat
# samples idle with the tick, which under -icount sleep=off lands in idle
# almost always), so the idle periods come from ftrace: sched_switch,
# irq_handler_entry and cpu_idle.
#
# Output, per run:
#   nvme-bench: run JOB PATH REP IOS ELAPSED_US BUSY_US EVENTS
#   nvme-bench-json: <fio's JSON output, line by line>
#   nvme-bench: end
# A run that stalled (an NVMe command timed out or the controller was
# reset, a completion took over a second, fio failed) or whose trace
# overflowed prints 'nvme-bench: drop JOB PATH REP IOS (why)' and is run
# again, twice at most ('nvme-bench: missing ...' then).  Last line:
#   nvme-bench: done: N runs, N dropped, N missing

# NAME IOS FIO-OPTIONS: 4 KiB random reads at queue depth 1 and 32, 128 KiB
# and 1 MiB sequential reads at queue depth 1 (one request in flight: at
# depth 32 the completions an interrupt reaps follow host timing, and
# busy time with them).  A run of 4k-randread-qd32 takes 0.6-1 s of guest
# time; more I/Os make stalls likelier (one in 5 to 10 runs of 8192 under
# no IOMMU).
BENCH_JOBS='4k-randread-qd1 4096 --rw=randread --bs=4k --iodepth=1
4k-randread-qd32 8192 --rw=randread --bs=4k --iodepth=32
128k-read-qd1 2048 --rw=read --bs=128k --iodepth=1
1m-read-qd1 256 --rw=read --bs=1m --iodepth=1'

bench_runs=$(sed -n 's/.*nvme_bench\.runs=\([0-9]*\).*/\1/p' /proc/cmdline)
bench_param=/sys/module/nvme/parameters/dma_iter
T=/sys/kernel/tracing
bench_bytes=$(($(cat "$sys/size") * 512))
bench_ncpu=$(grep -c '^processor' /proc/cpuinfo)

say() { echo "nvme-bench: $*"; }

# Busy and elapsed guest time between the markers, from the trace buffer:
# prints "ELAPSED_US BUSY_US EVENTS ok", or "... lost" when the buffer
# overflowed.  A CPU whose first event shows it leaving idle was idle from
# the start; one without any event was idle throughout.
busy() {
	awk -v ncpu="$bench_ncpu" '
	function stop(c) { if (on[c]) { idle[c] += ts - from[c]; on[c] = 0 } }
	function start(c, t) { if (!on[c]) { on[c] = 1; from[c] = t } }
	/^#/ { if ($0 ~ /entries-in-buffer/) hdr = $0; next }
	{
		ts = -1
		for (i = 3; i <= NF; i++)
			if ($i ~ /^[0-9]+\.[0-9]+:$/) {
				ev = $(i + 1)
				ts = substr($i, 1, length($i) - 1) * 1000000
				break
			}
		if (ts < 0) next
		match($0, /\[[0-9]+\]/)
		cpu = substr($0, RSTART + 1, RLENGTH - 2) + 0
		if (ev == "tracing_mark_write:") {
			if ($0 ~ /BENCH-BEGIN/) t0 = ts
			if ($0 ~ /BENCH-END/) t1 = ts
			next
		}
		if (t0 == "" || t1 != "") next
		n++
		first = !(cpu in seen)
		seen[cpu] = 1
		if (ev == "sched_switch:") {
			if (first && $0 ~ / prev_pid=0 /) start(cpu, t0)
			stop(cpu)
			if ($0 ~ / next_pid=0( |$)/) start(cpu, ts)
		} else if (ev == "irq_handler_entry:") {
			if (first) start(cpu, t0)
			stop(cpu)
		} else if (ev == "cpu_idle:") {
			if ($0 !~ /state=4294967295/) start(cpu, ts)
			else if (first) start(cpu, t0)
		}
	}
	END {
		if (t0 == "" || t1 == "") { print "0 0 0 unmarked"; exit }
		e = t1 - t0
		b = ncpu * e
		ts = t1
		for (c = 0; c < ncpu; c++) {
			if (!(c in seen)) b -= e
			else { stop(c); b -= idle[c] }
		}
		split(hdr, h, /[ \/]+/)
		printf "%.0f %.0f %d %s\n", e, b, n, (h[4] == h[5]) ? "ok" : "lost"
	}' $T/trace
}

# NVMe timeouts and resets so far.
stalls() { dmesg | grep -cE 'nvme.*(timeout|reset)'; }

# One fio run: prints its block and returns 0, or prints why it is dropped
# and returns 1.
bench_run() { # JOB PATH REP IOS FIO-OPTION...
	bj=$1 bp=$2 br=$3 bn=$4
	shift 4
	s0=$(stalls)
	rm -f /tmp/fio.json
	echo >$T/trace
	fio --thread --name="$bj" --filename="$dev" --direct=1 --ioengine="$eng" \
		--size=$bench_bytes --number_ios="$bn" --eta=never --disk_util=0 \
		--percentile_list=50:99 --exec_prerun="/tmp/trace-mark BENCH-BEGIN" \
		--exec_postrun="/tmp/trace-mark BENCH-END" --output-format=json \
		--output=/tmp/fio.json "$@" </dev/null >/tmp/out 2>&1
	rc=$?
	# shellcheck disable=SC2046 # the fields of busy's one line
	set -- $(busy)
	# the longest completion, in ns (clat_ns of the reads)
	max=$(awk '/"read" : \{/ { r = 1 } r && /"clat_ns" : \{/ { c = 1 }
		c && /"max" :/ { sub(/,$/, "", $3); print $3; exit }' /tmp/fio.json 2>/dev/null)
	why=
	if [ $rc != 0 ]; then
		why="fio failed"
	elif [ "$(stalls)" != "$s0" ]; then
		why="NVMe timeout"
	elif [ "${max:-0}" -gt 1000000000 ]; then
		why="a completion took $((max / 1000000)) ms"
	elif [ "$4" != ok ]; then
		why="trace: $4"
	fi
	if [ -n "$why" ]; then
		say "drop $bj $bp $br $bn ($why)"
		[ $rc = 0 ] || sed 's/^/    /' /tmp/out
		return 1
	fi
	say "run $bj $bp $br $bn $1 $2 $3"
	sed 's/^/nvme-bench-json: /' /tmp/fio.json
	say "end"
}

# bench_run, run again after a drop, twice at most.
bench_try() { # JOB PATH REP IOS FIO-OPTION...
	for _ in 1 2 3; do
		if bench_run "$@"; then
			nruns=$((nruns + 1))
			return
		fi
		ndropped=$((ndropped + 1))
	done
	say "missing $1 $2 $3 $4"
	nmissing=$((nmissing + 1))
}

bench_paths=sg
[ -e $bench_param ] && bench_paths="sg iter"
say "paths: $bench_paths; $bench_runs runs each; fio $(fio --version), $eng; $bench_ncpu CPUs"
printf '#!/bin/sh\necho "$*" >%s/trace_marker\n' $T >/tmp/trace-mark
chmod +x /tmp/trace-mark
mount -t tracefs nodev $T 2>/dev/null
echo 16384 >$T/buffer_size_kb
echo 'sched:sched_switch irq:irq_handler_entry power:cpu_idle' >$T/set_event
echo 1 >$T/tracing_on

if ! fio --thread --name=fill --filename="$dev" --direct=1 --ioengine="$eng" \
	--rw=write --bs=1m --iodepth=8 --size=$bench_bytes </dev/null >/tmp/out 2>&1; then
	sed 's/^/    /' /tmp/out
	say "filling the disk failed"
fi
nruns=0 ndropped=0 nmissing=0
while read -r job ios opts; do
	r=1
	while [ $r -le "$bench_runs" ]; do
		for p in $bench_paths; do
			case $p in sg) v=N ;; iter) v=Y ;; esac
			if [ -e $bench_param ] && ! { echo "$v" >$bench_param &&
				[ "$(cat $bench_param)" = "$v" ]; }; then
				say "cannot set $bench_param to $v"
				nmissing=$((nmissing + 2))
				continue
			fi
			# shellcheck disable=SC2086 # $opts: fio's options
			bench_try "$job" $p $r 1 $opts
			# shellcheck disable=SC2086
			bench_try "$job" $p $r "$ios" $opts
		done
		r=$((r + 1))
	done
done <<EOF
$BENCH_JOBS
EOF
say "done: $nruns runs, $ndropped dropped, $nmissing missing"
while :; do sleep 1000; done
