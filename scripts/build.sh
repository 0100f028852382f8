#!/usr/bin/env bash
# usage: scripts/build.sh [CONFIG]
# Builds the work tree out of tree into build/out/CONFIG from the kunitconfig
# fragment configs/CONFIG.config (default: kunit) and the fragments it names
# in '# include: NAME.config' lines, with ccache when present.  Rebuilds are
# incremental.
. "$(dirname "$0")/lib.sh"

cfg=${1:-kunit}
[ $# -le 1 ] && [ -f "$TOP/configs/$cfg.config" ] ||
	{ sed -n '2,6s/^# \{0,1\}//p' "$0" >&2; exit 2; }
need_tree
frags=()
for f in $(sed -n 's/^# include: *//p' "$TOP/configs/$cfg.config"); do
	[ -f "$TOP/configs/$f" ] || die "configs/$cfg.config includes $f, which is not in configs/"
	frags+=("$TOP/configs/$f")
done
kunit_build "$TREE" "$(outdir "$cfg")" "${frags[@]}" "$TOP/configs/$cfg.config"
