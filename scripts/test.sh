#!/usr/bin/env bash
# usage: scripts/test.sh
# Everything the README's test command runs: the series patch by patch
# (scripts/check-series.sh, its builds within a budget of
# CHECK_SERIES_BUDGET seconds, default 600), lint, the documentation
# (scripts/docs.sh), the test kernel in every
# IOMMU mode, fio and ext4 on an NVMe disk (scripts/nvme.sh), libibverbs
# and on-demand paging on soft-RoCE (scripts/rxe.sh -P), the debug kernel,
# then the kernel's own tests on the base and on the series
# (scripts/regress.sh) and the rxe programs on the base tree's kernel,
# where ODP must be refused.  Prints one table and, last, the line
# 'N passed, N failed' summed over all of it (also written to
# build/results/summary).  Exits non-zero when anything failed.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
[ $# -eq 0 ] || { sed -n '2,12s/^# \{0,1\}//p' "$0" >&2; exit 2; }
res=$BUILD/results
mkdir -p "$res"
rm -f "$res/summary" "$res"/{check-series,lint,docs,kunit,nvme,rxe,debug,regress}/totals
start=$SECONDS
rc=0

msg "the series patch by patch: git am, checkpatch, builds, new warnings"
"$TOP/scripts/check-series.sh" -b "${CHECK_SERIES_BUDGET:-600}" | tee "$res/check-series.table" || rc=1
msg "lint"
"$TOP/scripts/lint.sh" || rc=1
msg "documentation: htmldocs of the books the series touches, against the base"
"$TOP/scripts/docs.sh" || rc=1
msg "KUnit in every IOMMU mode"
"$TOP/scripts/run.sh" -c kunit | tee "$res/kunit.table" || rc=1
msg "fio and ext4 on an NVMe disk in every IOMMU mode"
"$TOP/scripts/nvme.sh" | tee "$res/nvme.table" || rc=1
msg "libibverbs and on-demand paging on soft-RoCE (rxe), with rdma-core's test_odp.py"
"$TOP/scripts/rxe.sh" -m none -P | tee "$res/rxe.table" || rc=1
msg "the debug kernel in its modes"
"$TOP/scripts/build.sh" debug && "$TOP/scripts/run.sh" -c debug | tee "$res/debug.table" || rc=1
msg "regressions: the kernel's own tests on the base and on the series"
"$TOP/scripts/regress.sh" || rc=1
# The same rxe programs on the base tree's kernel (regress.sh built it, with
# rxe): ODP must be refused there, so that the ODP results above are the
# series' code running.
msg "rxe on the base tree: ODP refused"
rm -f "$res/rxe/base-refused.totals"
"$TOP/scripts/rxe.sh" -k "$(outdir regress-base)/arch/x86/boot/bzImage" -x refused -P \
	-n base-refused | tail -n +2 >>"$res/rxe.table" || rc=1

read -r cp cf cs <"$res/check-series/totals" || { cp=0 cf=1 cs=0; }
read -r lp lf _ <"$res/lint/totals" || { lp=0 lf=1; }
read -r op of _ <"$res/docs/totals" || { op=0 of=1; }
read -r kp kf ks <"$res/kunit/totals" || { kp=0 kf=1 ks=0; }
read -r np nf ns <"$res/nvme/totals" || { np=0 nf=1 ns=0; }
read -r xp xf xs <"$res/rxe/totals" || { xp=0 xf=1 xs=0; }
read -r bp bf bs <"$res/rxe/base-refused.totals" || { bp=0 bf=1 bs=0; }
xp=$((xp + bp)) xf=$((xf + bf)) xs=$((xs + bs))
read -r dp df ds <"$res/debug/totals" || { dp=0 df=1 ds=0; }
read -r rp rf rs <"$res/regress/totals" || { rp=0 rf=1 rs=0; }
echo
echo "== results =="
cat "$res/kunit.table"
echo "nvme (fio + ext4):"
sed 's/^total /nvme  /' "$res/nvme.table" 2>/dev/null | tail -n +2 || true
echo "rxe (libibverbs ODP):"
tail -n +2 "$res/rxe.table" 2>/dev/null || true
echo "debug kernel:"
sed 's/^total /debug /' "$res/debug.table" 2>/dev/null | tail -n +2 || true
printf '%-14s %7d %7d %7d\n' regress "$rp" "$rf" "$rs"
printf '%-14s %7d %7d %7d\n' check-series "$cp" "$cf" "$cs"
printf '%-14s %7d %7d %7d\n' lint "$lp" "$lf" 0
printf '%-14s %7d %7d %7d\n' docs "$op" "$of" 0
echo "(wall time: $((SECONDS - start)) s)"
line="$((cp + lp + op + kp + np + xp + dp + rp)) passed, $((cf + lf + of + kf + nf + xf + df + rf)) failed, $((cs + ks + ns + xs + ds + rs)) skipped"
echo "$line" >"$res/summary"
echo "$line"
exit $rc
