#!/usr/bin/env bash
# usage: scripts/regress.sh [-n]
# The kernel's own tests for the code the series touches, on the base tree
# and on the series, compared test by test.  Builds configs/regress.config
# in the base worktree (build/linux-base) and in the work tree, builds each
# tree's own selftests statically (iommufd, iommufd_fail_nth, hmm-tests,
# dma_map_benchmark), and boots each kernel twice with a busybox initramfs.
# Without an IOMMU: the KUnit suites of the config at boot, then the iommufd
# selftests (6.12's mock IOMMU cannot register beside VT-d), hmm-tests, the
# map benchmark in its single-page mode (on the edu device) and fio writing
# and verifying an NVMe namespace.  Under VT-d strict (suites 'vtd:...'): the
# map benchmark and fio again, through dma-iommu.  A test that passes on the
# base and fails, is skipped or is missing on the series fails the run.
#   -n        no build: boot the last builds again
#   -o TREE   only this tree (base or series): build, boot, list its results
# Prints the table of counts per suite (base vs series) and writes
# build/results/regress/{base,series}-{none,vtd}.log, {base,series}.results,
# table, totals.
. "$(dirname "$0")/lib.sh"

usage() { sed -n '2,17s/^# \{0,1\}//p' "$0" >&2; exit 2; }
build=1 trees="base series"
while getopts no:h o; do
	case $o in
	n) build=0 ;;
	o) case $OPTARG in base | series) trees=$OPTARG ;; *) usage ;; esac ;;
	*) usage ;;
	esac
done
[ $OPTIND -gt $# ] || usage
need_tree
command -v fio >/dev/null || die "fio missing: run scripts/deps.sh"
res=$BUILD/results/regress
mkdir -p "$res"
rm -f "$res/totals"
btree=$(base_worktree)
fragment=$TOP/configs/regress.config
declare -A tree=([base]=$btree [series]=$TREE)
out() { outdir "regress-$1"; }

if [ $build = 1 ]; then
	for t in $trees; do
		kunit_build "${tree[$t]}" "$(out "$t")" "$fragment"
	done
fi
# The two .configs differ in nothing (the regression config enables none
# of the series' own options).
[ "$trees" != "base series" ] ||
	diff <(grep -v '^#' "$(out base)/.config") <(grep -v '^#' "$(out series)/.config") \
		>"$res/config.diff" || die "base and series .config differ: $res/config.diff"

# Each tree's selftests, built from that tree, against its own headers.
selftests() { # TREE OUT DEST
	local src=$1/tools/testing/selftests hdr=$2/usr/include inc=$3.inc t
	local cflags=(-static -O2 -Wall -Wno-unused-function -D_GNU_SOURCE -isystem "$hdr")
	mkdir -p "$3" "$inc/linux"
	[ -f "$hdr/linux/iommufd.h" ] || { warn "no headers in $hdr"; return 1; }
	for t in iommufd iommufd_fail_nth; do
		gcc "${cflags[@]}" -include "$TOP/scripts/regress/iommufd-compat.h" \
			-o "$3/$t" "$src/iommu/$t.c" -lpthread || return 1
	done
	gcc "${cflags[@]}" -U_FORTIFY_SOURCE -I"$1" -I"$1/tools/include" \
		-o "$3/hmm-tests" "$src/mm/hmm-tests.c" -lrt -lpthread -lm || return 1
	cp "$1/include/linux/map_benchmark.h" "$inc/linux/"
	gcc "${cflags[@]}" -I"$inc" -o "$3/dma_map_benchmark" \
		"$src/dma/dma_map_benchmark.c" || return 1
	rm -rf "$inc"
}

# Runs the user-space tests; each section's TAP is framed so that
# regress-results.py can tell them apart.  The kernel passes the unknown
# parameter regress_mode= to init in its environment: 'none' runs every
# section, 'vtd' those that move data through the IOMMU, named 'vtd:...'.
write_init() { # FILE
	cat >"$1" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmp /tmp
# iommufd_dirty_tracking.domain_dirty128M_huge needs 64 huge pages
echo 72 >/proc/sys/vm/nr_hugepages
pfx=
[ "$regress_mode" = vtd ] && pfx=vtd:
section() { echo "REGRESS BEGIN $pfx$1"; }
ended() { echo "REGRESS END $pfx$1 rc=$2"; }
selftest() { # NAME
	section "$1"
	/bin/"$1" 2>&1
	ended "$1" $?
}
# A command that prints no TAP of its own: one test, passed when it exits 0.
one() { # N TEST CMD...
	n=$1 t=$2
	shift 2
	"$@" >/tmp/out 2>&1
	rc=$?
	cat /tmp/out
	if [ $rc = 0 ]; then echo "ok $n $t"; else echo "not ok $n $t"; fi
}
if [ "$regress_mode" = none ]; then
	selftest iommufd
	selftest iommufd_fail_nth
	selftest hmm-tests
fi

section dma_map_benchmark
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor):$(cat $d/device)" = 0x1234:0x11e8 ] && edu=${d##*/}
done
echo dma_map_benchmark >/sys/bus/pci/devices/$edu/driver_override
echo $edu >/sys/bus/pci/drivers_probe
one 1 single sh -c \
	'dma_map_benchmark -s 1 -t 1 && grep -q "average map latency" /tmp/out'
ended dma_map_benchmark 0

section fio
n=0
for job in "randwrite 4k psync 1" "write 128k psync 1" "randwrite 1m libaio 8" \
	   "randrw 16k libaio 16"; do
	set -- $job
	n=$((n + 1))
	one $n "$1-$2-$3-qd$4" fio --thread --name=verify --filename=/dev/nvme0n1 \
		--direct=1 --rw=$1 --bs=$2 --ioengine=$3 --iodepth=$4 --size=16m \
		--verify=crc32c --do_verify=1 --verify_fatal=1 --randrepeat=1
done
ended fio 0
echo "REGRESS DONE"
poweroff -f
EOF
	chmod +x "$1"
}

boot() { # TREE MODE
	local kernel log=$res/$1-$2.log img=$res/$1-$2.nvme.img
	local append="console=ttyS0 panic=-1 regress_mode=$2" iommu=()
	kernel=$(out "$1")/arch/x86/boot/bzImage
	[ -f "$kernel" ] || die "no kernel at $kernel: run without -n"
	[ "$2" = none ] || { append+=" intel_iommu=on iommu.strict=1 kunit.enable=0"; iommu=(-device intel-iommu); }
	rm -f "$img" "$log"	# a log of an earlier boot would end this one at once
	truncate -s 64M "$img"
	qemu-system-x86_64 -M q35 -m 1G -nodefaults -nographic -no-reboot \
		-serial stdio -bios /usr/share/qemu/qboot.rom \
		-icount shift=auto,sleep=off -kernel "$kernel" -initrd "$res/$1.cpio" \
		-append "$append" "${iommu[@]}" -device edu,dma_mask=0xffffffffffffffff \
		-drive "file=$img,if=none,id=nvm,format=raw" \
		-device nvme,serial=regress0,drive=nvm \
		</dev/null >"$log" 2>&1 &
	stop_guest_when $! 1800 "$log" grep -qs 'REGRESS DONE' "$log"
	rm -f "$img"
}

for t in $trees; do
	root=$res/$t.root
	initramfs_skeleton "$root"
	selftests "${tree[$t]}" "$(out "$t")" "$root/bin" ||
		die "cannot build the selftests of $t"
	# fio is Debian's, with the libraries it links (copy_with_libs, lib.sh).
	# It runs with --thread: the kernel has no System V shared memory.
	copy_with_libs "$(command -v fio)" "$root" /bin/fio
	write_init "$root/init"
	initramfs_pack "$root" "$res/$t.cpio"
	rm -rf "$root"
done
# Two guests at a time (one per core): each tree without an IOMMU, then
# each under VT-d.
for m in none vtd; do
	pids=()
	for t in $trees; do
		msg "booting $t ($m)"
		boot "$t" "$m" &
		pids+=($!)
	done
	wait "${pids[@]}"
done

for t in $trees; do
	python3 "${tree[$t]}/tools/testing/kunit/kunit.py" parse --json="$res/$t.json" \
		"$res/$t-none.log" >"$res/$t.parsed" 2>&1 || true
	{
		python3 "$TOP/scripts/regress-results.py" collect "$res/$t-none.log" "$res/$t.json"
		python3 "$TOP/scripts/regress-results.py" collect "$res/$t-vtd.log" -
		for m in none vtd; do
			grep -q 'REGRESS DONE' "$res/$t-$m.log" ||
				printf 'boot\t%s: did not finish\tfail\n' "$m"
		done
	} >"$res/$t.results"
done
if [ "$trees" != "base series" ]; then
	cat "$res/$trees.results"
	exit 0
fi
python3 "$TOP/scripts/regress-results.py" compare "$res/base.results" "$res/series.results" \
	>"$res/table"
head -n -1 "$res/table"
tail -n1 "$res/table" >"$res/totals"
read -r _ f _ <"$res/totals"
[ "$f" = 0 ]
