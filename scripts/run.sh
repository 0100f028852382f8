#!/usr/bin/env bash
# usage: scripts/run.sh [-c CONFIG] [-m MODE[,MODE...]] [-f GLOB] [-s SHIFT]
# Boots the kernel built from configs/CONFIG.config (default: kunit) in QEMU
# once per IOMMU mode of configs/modes (default: the modes a '# modes:' line
# of the configuration names, else all; a '# qemu:' line adds QEMU options),
# collects the KUnit results, prints a table (mode x passed/failed/skipped)
# and exits non-zero when a test failed, a boot crashed or warned, or a mode
# did not boot.
#   -f GLOB   run only the matching suites/tests (kunit.filter_glob, e.g.
#             'dma_map_edu' or 'dma_map_edu.unmapped_*')
#   -s SHIFT  icount shift (default 'auto'; benchmarks use a fixed one)
# Logs and results: build/results/CONFIG/MODE.{log,json,counts}.
. "$(dirname "$0")/lib.sh"

usage() { sed -n '2,12s/^# \{0,1\}//p' "$0" >&2; exit 2; }
cfg=kunit modes="" filter="" shift_=auto
while getopts c:m:f:s:h o; do
	case $o in
	c) cfg=$OPTARG ;;
	m) modes=$OPTARG ;;
	f) filter=$OPTARG ;;
	s) shift_=$OPTARG ;;
	*) usage ;;
	esac
done
[ $OPTIND -gt $# ] || usage
need_tree

out=$(outdir "$cfg")
kernel=$out/arch/x86/boot/bzImage
[ -f "$kernel" ] || die "no kernel at $kernel: run 'make build' first"
res=$BUILD/results/$cfg
mkdir -p "$res"
qboot=/usr/share/qemu/qboot.rom
[ -f "$qboot" ] || die "$qboot missing: run scripts/deps.sh"

# The modes table, as NAME|EXPECT|DEVICES|CMDLINE lines.
mode_lines() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e 's/[[:space:]]*|[[:space:]]*/|/g' \
		"$TOP/configs/modes"
}
# Default: the modes a '# modes: A,B' line of the configuration names, or all.
[ -n "$modes" ] || modes=$(sed -n 's/^# modes: *//p' "$TOP/configs/$cfg.config" 2>/dev/null)
[ -n "$modes" ] || modes=$(mode_lines | cut -d'|' -f1 | paste -sd,)

# The DMA engine and the peer memory provider, on pcie.0 or, for '@switch',
# on two downstream ports of one switch (no ACS in QEMU: P2P by bus address).
EDU="-device edu,dma_mask=0xffffffffffffffff"
NVME="-device nvme,serial=p2p0,cmb_size_mb=16"
SWITCH="-device pcie-root-port,id=rp0,chassis=1,slot=1
	-device x3130-upstream,id=up0,bus=rp0
	-device xio3130-downstream,id=dn0,bus=up0,chassis=2,slot=0
	-device xio3130-downstream,id=dn1,bus=up0,chassis=3,slot=0
	$EDU,bus=dn0 $NVME,bus=dn1"

# QEMU options a '# qemu: ...' line of the configuration adds to every boot.
read -ra extra <<<"$(sed -n 's/^# qemu: *//p' "$TOP/configs/$cfg.config" 2>/dev/null)"

# A kernel with kmemleak boots an initramfs whose init, started once the
# suites are done, scans for leaks and prints what it found; the others end
# with the suites.
initrd=()
if grep -qx 'CONFIG_DEBUG_KMEMLEAK=y' "$out/.config"; then
	root=$res/initramfs
	initramfs_skeleton "$root"
	cat >"$root/init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t debugfs debugfs /sys/kernel/debug
# kmemleak reports an object older than 5 s that two scans in a row found
# unreferenced and unchanged.  An object waiting for an RCU grace period is
# such an object for a while (the creds, /proc dentries and inodes of this
# script's own children were, on two CPUs), so a report is believed only if
# a scan made after the grace periods of the first finds it still there:
# what was freed meanwhile leaves the list, a real leak stays (syzkaller
# reads kmemleak the same way).
k=/sys/kernel/debug/kmemleak
sleep 6
echo scan >$k
echo scan >$k
n=$(grep -c '^unreferenced object' $k)
if [ "$n" != 0 ]; then
	echo "kmemleak: $n objects reported; scanning again after 5 s"
	sleep 5
	echo scan >$k
fi
cat $k
# dma-debug's count of errors, printed or not (scripts/kernel-warnings.py)
f=/sys/kernel/debug/dma-api/error_count
[ -r $f ] && echo "dma-api error_count: $(cat $f)"
echo "kmemleak scan done"
poweroff -f
EOF
	chmod +x "$root/init"
	initramfs_pack "$root" "$res/initramfs.cpio"
	rm -rf "$root"
	initrd=(-initrd "$res/initramfs.cpio")
fi

# Whether the boot in LOG is over: the kmemleak scan printed its end, or,
# without one, every suite reported.
boot_done() {
	if [ ${#initrd[@]} -gt 0 ]; then
		grep -qs 'kmemleak scan done' "$1"
	else
		ktap_done "$1"
	fi
}

boot() {
	local name=$1 expect=$2 devices=$3 cmdline=$4 log=$res/$1.log
	local append="console=ttyS0 panic=-1 edu_kunit.expect=$expect nvme.use_cmb_sqes=0 spec_rstack_overflow=off $cmdline"
	[ ${#initrd[@]} -gt 0 ] || append+=" kunit_shutdown=reboot"
	case " $devices " in
	*" @switch "*) devices=${devices/@switch/$SWITCH} ;;
	*) devices+=" $EDU $NVME" ;;
	esac
	[ -z "$filter" ] || append+=" kunit.filter_glob=$filter"
	# A log left by an earlier boot of this mode would look finished to
	# stop_guest_when before QEMU truncates it: the guest was killed at 2 s.
	rm -f "$log"
	# shellcheck disable=SC2086 # $devices is a list of QEMU arguments
	qemu-system-x86_64 -M q35 -m 1G -nodefaults -nographic \
		-no-reboot -serial stdio -bios "$qboot" \
		-icount "shift=$shift_,sleep=off" -kernel "$kernel" -append "$append" \
		"${initrd[@]}" "${extra[@]}" $devices \
		</dev/null >"$log" 2>&1 &
	# Stop the guest once every suite has reported: the shutdown that
	# kunit_shutdown= starts can hang (under virtio-iommu, 6.12 resets the
	# IOMMU before the NVMe controller's last admin command).
	stop_guest_when $! 1800 "$log" boot_done "$log"
}

# Whether the log holds the top-level KTAP plan and as many results.
ktap_done() {
	[ -f "$1" ] || return 1
	tr -d '\r' <"$1" | awk '/^1\.\.[0-9]+$/ { n = substr($0, 4) + 0 }
		/^(not )?ok [0-9]+ / { c++ }
		END { exit !(n && c >= n) }'
}

printf '%-14s %7s %7s %7s  %s\n' mode passed failed skipped status
tp=0 tf=0 ts=0 rc=0
IFS=, read -ra want <<<"$modes"
for m in "${want[@]}"; do
	line=$(mode_lines | grep "^$m|") || die "no mode '$m' in configs/modes"
	IFS='|' read -r name expect devices cmdline <<<"$line"
	start=$SECONDS
	boot "$name" "$expect" "$devices" "$cmdline"
	status=ok
	if ! grep -q 'K*TAP version' "$res/$name.log"; then
		p=0 f=1 s=0 status="did not boot"
	else
		python3 "$TREE/tools/testing/kunit/kunit.py" parse --json="$res/$name.json" \
			"$res/$name.log" >"$res/$name.parsed" 2>&1 || true
		if [ -s "$res/$name.json" ]; then
			python3 "$TOP/scripts/kunit-counts.py" "$res/$name.json" >"$res/$name.counts"
		else
			echo "0 1 0" >"$res/$name.counts"
		fi
		read -r p f s <"$res/$name.counts"
		[ "$f" = 0 ] || status="FAILED: $(sed -n '2,4{s/^[A-Z]* //;p}' "$res/$name.counts" | paste -sd' ')"
		grep -q 'crashed\|CRASHED' "$res/$name.parsed" && status="CRASHED" && f=$((f + 1))
		# Tests bracket the warnings they provoke on purpose, and those
		# must come; any other warning, oops or panic fails the mode.
		if ! python3 "$TOP/scripts/kernel-warnings.py" "$res/$name.log" \
			>"$res/$name.warnings"; then
			status="kernel: $(head -n1 "$res/$name.warnings" | cut -c1-80)"
			f=$((f + 1))
		fi
	fi
	[ "$status" = ok ] || rc=1
	printf '%-14s %7d %7d %7d  %s (%ds)\n' "$name" "$p" "$f" "$s" "$status" $((SECONDS - start))
	tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s))
done
printf '%-14s %7d %7d %7d\n' total "$tp" "$tf" "$ts"
echo "$tp $tf $ts" >"$res/totals"
exit $rc
