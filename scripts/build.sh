#!/usr/bin/env bash
# usage: scripts/build.sh [CONFIG]
# Builds the work tree out of tree into build/out/CONFIG from the kunitconfig
# fragment configs/CONFIG.config (default: kunit), with ccache when present.
# Rebuilds are incremental.
. "$(dirname "$0")/lib.sh"

cfg=${1:-kunit}
[ $# -le 1 ] && [ -f "$TOP/configs/$cfg.config" ] ||
	{ sed -n '2,5s/^# \{0,1\}//p' "$0" >&2; exit 2; }
need_tree
out=$(outdir "$cfg")
mkdir -p "$out"
cc=gcc
command -v ccache >/dev/null && cc="ccache gcc"
msg "building $cfg in $out"
start=$SECONDS
python3 "$TREE/tools/testing/kunit/kunit.py" build --arch=x86_64 \
	--build_dir="$out" --kunitconfig="$TOP/configs/$cfg.config" \
	--jobs="$(nproc)" --make_options "CC=$cc" --make_options "HOSTCC=$cc" \
	>"$out/build.log" 2>&1 || { tail -40 "$out/build.log" >&2; die "build of $cfg failed (log: $out/build.log)"; }
grep -E '(^|[^a-z])(warning|error):' "$out/build.log" >&2 || true
msg "built $cfg in $((SECONDS - start)) s"
