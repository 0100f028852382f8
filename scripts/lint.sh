#!/usr/bin/env bash
# usage: scripts/lint.sh
# Lints the series as a whole against the base tree (checkpatch and the
# MAINTAINERS check run per patch in scripts/check-series.sh):
#  - sparse (C=2) and W=1 on every C file the series touches, compiled with
#    the debug kernel's configuration (configs/kunit.config and debug.config)
#    in the series tree and in a base worktree (build/linux-base): warnings
#    the base does not have fail, and so does a file it does not build;
#  - scripts/kernel-doc -none -Wall on every touched .c and .h, likewise;
#  - gcc -Wall -Wextra on every touched user-space program under tools/.
# Prints one line per check and writes 'PASSED FAILED 0' to
# build/results/lint/totals.  Exits non-zero when a check fails.
. "$(dirname "$0")/lib.sh"
[ $# -eq 0 ] || { sed -n '2,12s/^# \{0,1\}//p' "$0" >&2; exit 2; }
need_tree
base=$(base_rev)
res=$BUILD/results/lint
rm -rf "$res"
mkdir -p "$res"
pass=0 fail=0

mapfile -t cfiles < <(tgit diff --name-only --diff-filter=AM "$base" HEAD -- '*.c' ':!tools/')
mapfile -t ufiles < <(tgit diff --name-only --diff-filter=AM "$base" HEAD -- 'tools/*.c')
mapfile -t dfiles < <(tgit diff --name-only --diff-filter=AM "$base" HEAD -- '*.c' '*.h')
[ ${#dfiles[@]} -gt 0 ] || { echo "$pass $fail 0" >"$res/totals"; exit $((fail > 0)); }

# A base worktree, for the warnings that are there without the series.
btree=$(base_worktree)

# Output directories with the debug kernel's configuration (the test
# kernel's and more: dma-debug is only built there), prepared once.  The
# fragments are merged as kunit.py merges them: olddefconfig over their
# concatenation.
prep() { # TREE OUT
	mkdir -p "$2"
	cat "$TOP/configs/kunit.config" "$TOP/configs/debug.config" >"$2/.config"
	TREE=$1 kmake "$2" -s olddefconfig >/dev/null
	TREE=$1 kmake "$2" -s -j"$(nproc)" prepare >"$2/prepare.log" 2>&1 ||
		{ cat "$2/prepare.log" >&2; die "'make prepare' failed in $2"; }
}
prep "$TREE" "$BUILD/out/lint-series"
prep "$btree" "$BUILD/out/lint-base"

# Warnings of one file, the tree's path and line numbers dropped so that base
# and series compare.
warnings() { # TREE OUT FILE
	if [ -f "$1/$3" ]; then
		rm -f "$2/${3%.c}.o"
		TREE=$1 kmake "$2" -s W=1 C=2 "${3%.c}.o" 2>&1 |
			grep -E '(warning|error):' | grep -F "$3" |
			sed -E -e "s#^$1/##" -e 's/:[0-9]+(:[0-9]+)?:/:/' | sort
	fi
}
kdoc() { # TREE FILE
	[ -f "$1/$2" ] && (cd "$1" && scripts/kernel-doc -none -Wall "$2" 2>&1) |
		sed -E 's/:[0-9]+:/:/' | sort
	true
}
for f in "${cfiles[@]}"; do
	comm -13 <(warnings "$btree" "$BUILD/out/lint-base" "$f") \
		<(warnings "$TREE" "$BUILD/out/lint-series" "$f") >"$res/new.out"
	# A file the configuration does not build would pass unchecked.
	[ -f "$BUILD/out/lint-series/${f%.c}.o" ] ||
		echo "$f: not built by the lint configuration" >>"$res/new.out"
	check_empty "sparse + W=1, no new warnings: $f" "$res/new.out"
done
# User-space programs (selftests) are not built by kbuild: gcc -Wall -Wextra
# against the tree's headers, and no warning at all.
# The benchmark's header is not uapi: it is included from a copy.
uinc=$BUILD/out/lint-user/include
mkdir -p "$uinc/linux"
cp "$TREE/include/linux/map_benchmark.h" "$uinc/linux/"
for f in "${ufiles[@]}"; do
	gcc -fsyntax-only -Wall -Wextra -I"$uinc" "$TREE/$f" >"$res/new.out" 2>&1
	check_empty "gcc -Wall -Wextra, no warnings: $f" "$res/new.out"
done
for f in "${dfiles[@]}"; do
	comm -13 <(kdoc "$btree" "$f") <(kdoc "$TREE" "$f") >"$res/new.out"
	check_empty "kernel-doc, no new warnings: $f" "$res/new.out"
done
echo "$pass $fail 0" >"$res/totals"
exit $((fail > 0))
