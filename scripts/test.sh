#!/usr/bin/env bash
# usage: scripts/test.sh
# Everything the README's test command runs: lint, then the test kernel in
# every IOMMU mode.  Prints one table and, last, the line
# 'N passed, N failed' summed over all of it (also written to
# build/results/summary).  Exits non-zero when anything failed.
. "$(dirname "$0")/lib.sh"
[ $# -eq 0 ] || { sed -n '2,6s/^# \{0,1\}//p' "$0" >&2; exit 2; }
res=$BUILD/results
mkdir -p "$res"
rm -f "$res/summary"
start=$SECONDS
rc=0

msg "lint"
"$TOP/scripts/lint.sh" || rc=1
msg "KUnit in every IOMMU mode"
"$TOP/scripts/run.sh" -c kunit | tee "$res/kunit.table" || rc=1

read -r lp lf _ <"$res/lint/totals" || { lp=0 lf=1; }
read -r kp kf ks <"$res/kunit/totals" || { kp=0 kf=1 ks=0; }
echo
echo "== results =="
cat "$res/kunit.table"
printf '%-14s %7d %7d %7d\n' lint "$lp" "$lf" 0
echo "(wall time: $((SECONDS - start)) s)"
line="$((lp + kp)) passed, $((lf + kf)) failed, $ks skipped"
echo "$line" >"$res/summary"
echo "$line"
exit $rc
