#!/usr/bin/env bash
# usage: scripts/bench.sh [-m MODE[,MODE...]] [-n N[,N...]] [-s SECONDS] [-i SHIFT] [-N]
# Boots the test kernel (build/out/kunit, 'make build') with a busybox
# initramfs once per IOMMU mode (default: vtd-strict,vtd-lazy,virtio-iommu,
# amd,none), binds the DMA map benchmark to the edu device and runs each of
# its modes (pages, sg, iova, floor, unlink, batch, unlinkfloor) for
# batches of N pages (default 1,16,512), SECONDS of guest time each
# (default 1), under -icount shift=SHIFT,sleep=off (default 3), so that
# guest time counts instructions.
# Prints one table: guest ns per page (map + unmap) for each API, and the
# ratios iova/pages, iova/sg and iova/floor, every figure from one boot;
# one of the unlink side alone (modes unlink, batch, unlinkfloor: page by
# page, one batch, the IOMMU floor) with batch/unlink and batch/floor;
# then the bookkeeping bytes per mapped page of hmm-dma and of ODP umems
# in each mode (their KUnit cases print it, run in the same boot, before
# the benchmark), beside the 16 bytes of a PFN list plus a DMA address list.
# Writes build/results/bench/{MODE.log,bench.csv,unlink.txt,memory.csv}, with
# gnuplot (installed here if missing: gnuplot-nox), bench.svg.
# Then the NVMe table (scripts/nvme.sh -b, unless -N): fio through
# nvme-pci's scatterlist and DMA iterator paths, one boot per mode (with -m,
# those modes; else all seven of scripts/nvme.sh), under the same shift;
# build/results/bench/nvme.{txt,csv}.  Times are reported, never asserted.
. "$(dirname "$0")/lib.sh"

usage() { sed -n '2,24s/^# \{0,1\}//p' "$0" >&2; exit 2; }
modes=vtd-strict,vtd-lazy,virtio-iommu,amd,none sizes=1,16,512 secs=1 shift_=3
nvme=1 nvme_modes=""
while getopts m:n:s:i:Nh o; do
	case $o in
	m) modes=$OPTARG nvme_modes=$OPTARG ;;
	N) nvme=0 ;;
	n) sizes=$OPTARG ;;
	s) secs=$OPTARG ;;
	i) shift_=$OPTARG ;;
	*) usage ;;
	esac
done
[ $OPTIND -gt $# ] || usage
need_tree

kernel=$(outdir kunit)/arch/x86/boot/bzImage
[ -f "$kernel" ] || die "no kernel at $kernel: run 'make build' first"
res=$BUILD/results/bench
mkdir -p "$res"

# The benchmark's user interface, built against the work tree's header.
root=$res/initramfs
initramfs_skeleton "$root"
mkdir -p "$root/inc/linux"
cp "$TREE/include/linux/map_benchmark.h" "$root/inc/linux/"
gcc -static -O2 -Wall -I"$root/inc" -o "$root/bin/dma_map_benchmark" \
	"$TREE/tools/testing/selftests/dma/dma_map_benchmark.c" ||
	die "cannot build dma_map_benchmark"
rm -rf "$root/inc"
cat >"$root/init" <<EOF
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t debugfs debugfs /sys/kernel/debug
for d in /sys/bus/pci/devices/*; do
	[ "\$(cat \$d/vendor):\$(cat \$d/device)" = 0x1234:0x11e8 ] && edu=\${d##*/}
done
echo dma_map_benchmark >/sys/bus/pci/devices/\$edu/driver_override
echo \$edu >/sys/bus/pci/drivers_probe
for n in $(echo "$sizes" | tr , ' '); do
	for m in pages sg iova floor unlink batch unlinkfloor; do
		echo "BENCH \$m \$n"
		dma_map_benchmark -m \$m -g \$n -s $secs -t 1 -b 64 2>&1
	done
done
echo "BENCH DONE"
sleep 1000
EOF
chmod +x "$root/init"
initramfs_pack "$root" "$res/initramfs.cpio"

# name|expect|devices|cmdline of a mode in configs/modes.
mode_line() {
	sed -e 's/#.*//' -e 's/[[:space:]]*|[[:space:]]*/|/g' "$TOP/configs/modes" |
		grep "^$1|"
}

boot() {
	local name=$1 devices=$2 cmdline=$3 log=$res/$1.log
	rm -f "$log"	# a log of an earlier boot would end this one at once
	# shellcheck disable=SC2086 # $devices is a list of QEMU arguments
	qemu-system-x86_64 -M q35 -m 1G -nodefaults -nographic -no-reboot \
		-serial stdio -bios /usr/share/qemu/qboot.rom \
		-icount "shift=$shift_,sleep=off" -kernel "$kernel" \
		-initrd "$res/initramfs.cpio" \
		-append "console=ttyS0 panic=-1 kunit.filter_glob=*.*bookkeeping spec_rstack_overflow=off $cmdline" \
		$devices -device edu,dma_mask=0xffffffffffffffff \
		</dev/null >"$log" 2>&1 &
	stop_guest_when $! 1800 "$log" grep -qs 'BENCH DONE' "$log"
}

csv=$res/bench.csv mem=$res/memory.csv
echo "mode,pages,api,map_ns_per_page,unmap_ns_per_page,map_sd_ns,unmap_sd_ns" >"$csv"
echo "mode,user,dma_path,bytes_per_page,before" >"$mem"
IFS=, read -ra want <<<"$modes"
for m in "${want[@]}"; do
	line=$(mode_line "$m") || die "no mode '$m' in configs/modes"
	IFS='|' read -r name _ devices cmdline <<<"$line"
	msg "benchmarking under $name"
	boot "$name" "$devices" "$cmdline"
	grep -q 'BENCH DONE' "$res/$name.log" || warn "$name: benchmark did not finish (log: $res/$name.log)"
	# "average map latency(us):X standard deviation:Y" per batch of n pages
	tr -d '\r' <"$res/$name.log" | awk -v mode="$name" '
		/^BENCH [a-z]+ [0-9]+$/ { api = $2; n = $3; next }
		/^average map latency/ { split($0, a, /[:a-z() ]+/); mp = a[2]; ms = a[3] }
		/^average unmap latency/ {
			split($0, a, /[:a-z() ]+/)
			printf "%s,%d,%s,%.1f,%.1f,%.1f,%.1f\n", mode, n, api,
				mp * 1000 / n, a[2] * 1000 / n, ms * 1000 / n, a[3] * 1000 / n
		}' >>"$csv"
	# "<user>-kunit: bookkeeping on the PATH path: N bytes per page (before: 16)"
	tr -d '\r' <"$res/$name.log" | sed -n \
		-e 's/^\([a-z-]*\)-kunit: bookkeeping on the \([a-z-]*\) path: \([0-9]*\) bytes per page (before: \([0-9]*\))$/\1,\2,\3,\4/p' \
		-e 's/^\([a-z-]*\)-kunit: bookkeeping on the \([a-z-]*\) path: device refused (before: \([0-9]*\) bytes per page)$/\1,\2,refused,\3/p' |
		sed "s/^/$name,/" >>"$mem"
done

# The table: map + unmap per page, and the ratios, from the CSV.
awk -F, 'NR > 1 { key = $1 "," $2; t[key "," $3] = $4 + $5
		if (!(key in seen)) { seen[key] = 1; order[++k] = key } }
	function cell(v) { return v ? sprintf("%8.0f", v) : sprintf("%8s", "n/a") }
	function ratio(a, b) { return (a && b) ? sprintf("%7.2f", a / b) : sprintf("%7s", "n/a") }
	END {
		printf "%-13s %5s %8s %8s %8s %8s %7s %7s %7s\n", "mode", "pages",
			"pages", "sg", "iova", "floor", "iova/pg", "iova/sg", "iova/fl"
		for (i = 1; i <= k; i++) {
			split(order[i], f, ",")
			p = t[order[i] ",pages"]; s = t[order[i] ",sg"]
			v = t[order[i] ",iova"]; fl = t[order[i] ",floor"]
			printf "%-13s %5d %s %s %s %s %s %s %s\n", f[1], f[2], cell(p),
				cell(s), cell(v), cell(fl), ratio(v, p), ratio(v, s), ratio(v, fl)
		}
	}' "$csv" | tee "$res/bench.txt"
echo "guest ns per page (map + unmap), -icount shift=$shift_; CSV: $csv"
echo
# The unlink side alone: page by page, as one batch, and the IOMMU floor.
awk -F, 'NR > 1 { key = $1 "," $2; t[key "," $3] = $5
		if (!(key in seen)) { seen[key] = 1; order[++k] = key } }
	function cell(v) { return v ? sprintf("%8.0f", v) : sprintf("%8s", "n/a") }
	function ratio(a, b) { return (a && b) ? sprintf("%8.2f", a / b) : sprintf("%8s", "n/a") }
	END {
		printf "%-13s %5s %8s %8s %8s %8s %8s\n", "mode", "pages",
			"unlink", "batch", "floor", "bat/unl", "bat/fl"
		for (i = 1; i <= k; i++) {
			split(order[i], f, ",")
			u = t[order[i] ",unlink"]; b = t[order[i] ",batch"]
			fl = t[order[i] ",unlinkfloor"]
			printf "%-13s %5d %s %s %s %s %s\n", f[1], f[2], cell(u),
				cell(b), cell(fl), ratio(b, u), ratio(b, fl)
		}
	}' "$csv" | tee "$res/unlink.txt"
echo "guest ns per page (unlink side only): dma_iova_unlink per page, dma_iova_unlink_nosync per page + one flush, iommu_unmap_fast per page + one iommu_iotlb_sync"
echo
# Bookkeeping bytes per mapped page: hmm-dma and ODP, mode by mode.
awk -F, 'NR > 1 { v[$1 "," $2] = $4; p[$1] = $3; b[$1] = $5
		if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
	END {
		printf "%-13s %-13s %8s %8s %8s\n", "mode", "dma path", "hmm-dma",
			"odp", "before"
		for (i = 1; i <= k; i++) {
			m = order[i]
			printf "%-13s %-13s %8s %8s %8s\n", m, p[m], v[m ",hmm-dma"],
				v[m ",umem-odp"], b[m]
		}
	}' "$mem" | tee "$res/memory.txt"
echo "bytes of bookkeeping per mapped page; before: a PFN list plus a DMA address list; CSV: $mem"

# The plot: guest ns per page of each API, per mode and batch size.
if ! command -v gnuplot >/dev/null; then
	msg "apt-get install gnuplot-nox (for the plot)"
	apt-get install -y -q gnuplot-nox >/dev/null 2>&1 ||
		warn "no gnuplot: no plot"
fi
if command -v gnuplot >/dev/null; then
	# mode, N, then pages, sg, iova, floor ("n/a" stays missing)
	awk 'NR > 1 { print $1, $2, $3, $4, $5, $6 }' "$res/bench.txt" |
		sed 's#n/a#?#g' >"$res/bench.dat"
	gnuplot <<PLOT || warn "gnuplot failed: no plot"
set terminal svg size 1100,520 noenhanced font "sans,11"
set output "$res/bench.svg"
set title "DMA map + unmap per page, guest ns (-icount shift=$shift_, one boot per mode)"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "guest ns per page"
set xtics font "sans,9"
set datafile missing "?"
set key top right
set xlabel "IOMMU mode, pages per batch"
plot "$res/bench.dat" using 3:xtic(stringcolumn(1)."\\n".stringcolumn(2)) \\
		title "dma_map_page per page", \\
	'' using 4 title "dma_map_sgtable", \\
	'' using 5 title "IOVA: link + one sync", \\
	'' using 6 title "floor: iommu_map_nosync + one sync"
PLOT
	[ -s "$res/bench.svg" ] && echo "plot: $res/bench.svg"
fi

# The NVMe table: the same shift, one boot per mode.
if [ $nvme = 1 ]; then
	echo
	msg "the NVMe benchmark (scripts/nvme.sh -b)"
	"$TOP/scripts/nvme.sh" -b -s "$shift_" ${nvme_modes:+-m "$nvme_modes"}
fi
