#!/usr/bin/env bash
# usage: scripts/check-series.sh [-b SECONDS]
# The series as a maintainer receives it, patch by patch:
#  - the mbox of the series (scripts/mbox.sh) applies with 'git am' to a
#    pristine base: a worktree (build/check) at the base commit, whose id
#    must be base.conf's BASE_COMMIT (the Debian tarball, imported); the
#    last patch must leave the tree of the work tree's HEAD (patches/ is
#    exported, no work is left only in build/linux);
#  - for every patch, in order, on the commit 'git am' made of it:
#    checkpatch.pl --strict --codespell is clean; every file it adds is in
#    a MAINTAINERS section (get_maintainer.pl's answer for the patch is
#    written to the report); the kernel builds (make: vmlinux, bzImage,
#    modules) in two configurations that compile every C file the series
#    touches (allnoconfig plus a fragment): configs/check-on.config
#    (x86_64, the series' options on, its users and KUnit suites as
#    modules, so a missing export fails) and configs/check-off.config
#    (i386, built in, without the IOMMU, P2PDMA, ODP, tracepoints or
#    KUnit: the stubs, and 32-bit dma_addr_t and phys_addr_t); neither
#    build prints a warning the base does not; W=1 and sparse (C=2) over
#    the C files it touches (and, for a header it touches, up to three of
#    the series' C files that include it) give no warning the base gives
#    not.
# The test configuration (configs/kunit.config) is built at the last patch
# by scripts/build.sh, not here: at every patch it would take about five
# hours on 2 cores, as four patches change <linux/dma-mapping.h>.
# A row whose inputs were all checked before is taken from a cache: the key
# is the tree at that patch, the configurations, this script and the
# compiler, so a changed patch is checked again, with every patch after it
# (CHECK_SERIES_CACHE, default ~/.cache/iova-dma-series/check-series; only
# passing rows are kept).  Builds are incremental, in build/out/check-*.
#   -b SECONDS  build rows only until SECONDS have passed; the builds of the
#               rows after that are not run and are counted skipped, and so
#               are all of them when the base is not in the cache or
#               build/out/check-* holds no earlier build (the README's test
#               command passes a budget, 'make check-series' none)
# Prints the table; writes build/results/check-series/{report.md,totals}
# ('PASSED FAILED SKIPPED').  Exits non-zero when a check fails.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
usage() { sed -n '2,/^\. /{/^\. /d;s/^# \{0,1\}//p}' "$0" >&2; exit 2; }
budget=0
while getopts b:h o; do
	case $o in
	b) budget=$OPTARG ;;
	*) usage ;;
	esac
done
[ $OPTIND -gt $# ] || usage
[[ $budget =~ ^[0-9]+$ ]] || usage
need_tree
command -v sparse >/dev/null || die "sparse missing: run scripts/deps.sh"

res=$BUILD/results/check-series
wt=$BUILD/check
cache=${CHECK_SERIES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iova-dma-series/check-series}
rm -rf "$res"
mkdir -p "$res/rows" "$res/get_maintainer" "$cache"
start=$SECONDS
pass=0 fail=0 skip=0
count() { # ok|FAIL|skip
	case $1 in ok) pass=$((pass + 1)) ;; FAIL) fail=$((fail + 1)) ;; *) skip=$((skip + 1)) ;; esac
}

mapfile -t series < <(grep -v '^[[:space:]]*\(#\|$\)' "$PATCHES/series")
n=${#series[@]}

# The base, pristine: the commit id is the hash of the tarball's content.
base=$(base_rev) || die "no '$BASE_TAG' tag in $TREE"
basecheck=ok
[ "$base" = "$BASE_COMMIT" ] || basecheck=FAIL
count $basecheck

# The mbox, applied to a worktree at the base.
"$TOP/scripts/mbox.sh" "$res/series.mbox"
if [ -d "$wt/.git" ] || [ -f "$wt/.git" ]; then
	git -C "$wt" am --abort >/dev/null 2>&1 || true
	git -C "$wt" checkout -q -f --detach "$base"
	git -C "$wt" clean -q -fdx
else
	tgit worktree prune
	tgit worktree add -q --detach "$wt" "$base"
fi
git config user.email >/dev/null || export GIT_COMMITTER_NAME="patch queue" \
	GIT_COMMITTER_EMAIL="patch-queue@invalid"
# The cover letter comes first and has no diff: git am stops on it.
git -C "$wt" am -q --whitespace=nowarn "$res/series.mbox" >"$res/am.log" 2>&1 ||
	{ grep -q 'Patch is empty' "$res/am.log" &&
		git -C "$wt" am -q --whitespace=nowarn --skip >>"$res/am.log" 2>&1; } || true
# A patch that does not apply stops git am: keep the commits made before
# it (--abort would reset HEAD to the base and lose them).
git -C "$wt" am --quit >/dev/null 2>&1 || true
applied=$(git -C "$wt" rev-list --count "$base..HEAD")
mapfile -t commits < <(git -C "$wt" rev-list --reverse "$base..HEAD")
amcheck=ok
[ "$applied" = "$n" ] || amcheck=FAIL
count $amcheck
headcheck=ok
[ "$(git -C "$wt" rev-parse "HEAD^{tree}")" = "$(tgit rev-parse "HEAD^{tree}")" ] || headcheck=FAIL
count $headcheck

# Everything a cache key depends on besides the tree.
# The checks themselves: bump when a check changes (not for the report).
check_version=2
kbuild_id=$(cat "$TOP/configs/check-on.config" "$TOP/configs/check-off.config" <(echo "$check_version") \
	<(gcc --version) <(sparse --version 2>&1) | sha1sum | cut -c1-16)

# The C files the whole series touches (for the headers' includers).
mapfile -t series_c < <(git -C "$wt" diff --name-only --diff-filter=AM "$base" HEAD -- '*.c' ':!tools/')

# Builds run in the worktree, checked out at the patch.
mk() { # OUT ARGS...
	TREE=$wt kmake "$@"
}
# allnoconfig plus FRAGMENT; every option the fragment sets that the tree
# at this patch defines must survive (a patch that breaks an option's
# dependencies fails its row; the series' own options come with it).
configure() { # OUT ARCH FRAGMENT LOG
	local out=$1 l sym opts defined
	mkdir -p "$out"
	KARCH=$2 mk "$out" -s KCONFIG_ALLCONFIG="$3" allnoconfig >"$4" 2>&1 ||
		{ echo "error: allnoconfig failed" >>"$4"; return 1; }
	defined=" $(git -C "$wt" grep -h -E '^[[:space:]]*(menu)?config [A-Z0-9_]+$' -- '*Kconfig*' |
		awk '{ print $2 }' | tr '\n' ' ')"
	mapfile -t opts < <(grep -E '^(CONFIG_|# CONFIG_.* is not set)' "$3")
	for l in "${opts[@]}"; do
		sym=$(sed -E 's/^(# )?CONFIG_([A-Z0-9_]+).*/\2/' <<<"$l")
		[[ $defined == *" $sym "* ]] || continue
		grep -qxF "$l" "$out/.config" ||
			{ echo "error: '$l' of ${3##*/} does not survive Kconfig" >>"$4"; return 1; }
	done
}
build() { # OUT ARCH FRAGMENT LOG
	configure "$1" "$2" "$3" "$4" || return 1
	KARCH=$2 mk "$1" -s -j"$(nproc)" >>"$4" 2>&1
}
# Warning lines of a make log, the tree's path and line numbers dropped.
warnings_of() { # LOG
	grep -E '(^|[^a-z])(warning|error):' "$1" |
		sed -E -e "s#^$wt/##" -e "s#^(\.\./)+check/##" -e 's/:[0-9]+(:[0-9]+)?:/:/' | sort -u || true
}
out_on=$BUILD/out/check-on
out_off=$BUILD/out/check-off
frag_on=$TOP/configs/check-on.config
frag_off=$TOP/configs/check-off.config

# The files a commit touches, and the C files whose W=1 and sparse output
# is checked for it.
touched() { git -C "$wt" diff-tree --no-commit-id --name-only -r "$1"; }
wfiles() { # COMMIT
	local f h base_h c k
	for f in $(touched "$1"); do
		case $f in
		tools/*) ;;
		*.c) [ -f "$wt/$f" ] && echo "$f" ;;
		include/*.h)
			h=${f#include/} k=0
			for c in "${series_c[@]}"; do
				[ -f "$wt/$c" ] && grep -q "#include <$h>" "$wt/$c" || continue
				echo "$c"
				k=$((k + 1))
				[ $k -lt 3 ] || break
			done
			;;
		*.h)
			base_h=$(dirname "$f")
			for c in "${series_c[@]}"; do
				[ "$(dirname "$c")" = "$base_h" ] && [ -f "$wt/$c" ] &&
					grep -q "#include \"$(basename "$f")\"" "$wt/$c" && { echo "$c"; break; }
			done
			;;
		esac
	done | sort -u
}
# W=1 + sparse of FILES in OUT, filtered to the lines about the files the
# commit touches.
wcheck() { # OUT LOG TOUCHED-REGEX FILES...
	local out=$1 log=$2 re=$3 f objs=()
	shift 3
	for f; do
		rm -f "$out/${f%.c}.o"
		objs+=("${f%.c}.o")
	done
	[ ${#objs[@]} -gt 0 ] || { : >"$log"; return; }
	mk "$out" -k -s W=1 C=2 "${objs[@]}" >"$log" 2>&1 || true
	for f; do
		[ -f "$out/${f%.c}.o" ] || echo "$f: error: not built by this configuration" >>"$log"
	done
	warnings_of "$log" | grep -E "$re" || true
}

# The base: both configurations built, and the warnings of the base's own
# versions of the series' C files under W=1 and sparse.
checkout() { git -C "$wt" checkout -q -f --detach "$1"; }
basew=$res/base-warnings
checkout "$base"
basekey=$(printf '%s %s base\n' "$(git -C "$wt" rev-parse "$base^{tree}")" "$kbuild_id" | sha1sum | cut -c1-40)
nobuild=""
if [ -s "$cache/$basekey" ]; then
	cp "$cache/$basekey" "$basew"
elif [ "$budget" -gt 0 ]; then
	# Cold, the base alone takes the better part of an hour on 2 cores.
	nobuild="not built: the base is not checked yet (run 'make check-series')"
	: >"$basew"
else
	msg "check-series: the base, in both configurations"
	build "$out_on" x86_64 "$frag_on" "$res/base-build-on.log" ||
		die "the base does not build: $res/base-build-on.log"
	build "$out_off" i386 "$frag_off" "$res/base-build-off.log" ||
		die "the base does not build: $res/base-build-off.log"
	have=()
	for f in "${series_c[@]}"; do [ -f "$wt/$f" ] && have+=("$f"); done
	{
		warnings_of "$res/base-build-on.log"
		warnings_of "$res/base-build-off.log"
		wcheck "$out_on" "$res/base-w1.log" . "${have[@]}"
	} | sort -u >"$basew"
	# an empty file is a valid result: mark it
	echo "# base warnings" >>"$basew"
	cp "$basew" "$cache/$basekey"
fi

# One row per patch.
rowcells=()
i=0
for p in "${series[@]}"; do
	i=$((i + 1))
	row=$res/rows/$(printf '%04d' "$i")
	mkdir -p "$row"
	c=${commits[$((i - 1))]:-}
	# checkpatch and MAINTAINERS, on the patch file, with the base's scripts
	(cd "$wt" && PATH=/usr/bin:$PATH scripts/checkpatch.pl --strict --codespell --no-summary \
		--quiet --show-types --ignore FILE_PATH_CHANGES "$PATCHES/$p") >"$row/checkpatch" 2>&1 || true
	cp_=ok
	[ ! -s "$row/checkpatch" ] || cp_=FAIL
	count $cp_
	(cd "$TREE" && perl scripts/get_maintainer.pl --no-git --no-git-fallback --no-rolestats \
		"$PATCHES/$p" 2>&1) >"$res/get_maintainer/$p.txt" || true
	: >"$row/maintainers"
	for f in $(sed -n 's/^ create mode [0-9]* //p' "$PATCHES/$p"); do
		(cd "$TREE" && perl scripts/get_maintainer.pl --no-git --no-git-fallback \
			--sections -f "$f" 2>/dev/null) | grep -v '^[A-Z]:' | grep -v '^$' |
			grep -qvx 'THE REST' || echo "$f: in no MAINTAINERS section" >>"$row/maintainers"
	done
	mt=ok
	[ ! -s "$row/maintainers" ] || mt=FAIL
	count $mt
	if [ -z "$c" ]; then
		bt=FAIL bf=FAIL wn=FAIL note="not applied"
		count FAIL; count FAIL; count FAIL
		rowcells+=("$i|$p|$cp_|$mt|$bt|$bf|$wn|$note")
		continue
	fi
	ptree=$(git -C "$wt" rev-parse "$c^{tree}")
	key=$(printf '%s %s %s\n' "$ptree" "$kbuild_id" "$(git -C "$wt" rev-parse "$c^^{tree}")" |
		sha1sum | cut -c1-40)
	if [ -s "$cache/$key" ]; then
		bt=ok bf=ok wn=ok note="checked $(cut -d' ' -f1 "$cache/$key") (cached)"
	elif [ -n "$nobuild" ]; then
		bt=skip bf=skip wn=skip note=$nobuild
	elif [ "$budget" -gt 0 ] && [ $((SECONDS - start)) -ge "$budget" ]; then
		bt=skip bf=skip wn=skip note="not built: budget of $budget s spent"
	elif [ "$budget" -gt 0 ] && ! [ -f "$out_on/vmlinux" ] && ! [ -f "$out_off/vmlinux" ]; then
		# a first build in an empty directory does not fit a budget
		bt=skip bf=skip wn=skip note="not built: no earlier build in build/out/check-* to go on from"
	else
		t0=$SECONDS
		checkout "$c"
		bt=ok
		build "$out_on" x86_64 "$frag_on" "$row/build-on.log" || bt=FAIL
		bf=ok
		build "$out_off" i386 "$frag_off" "$row/build-off.log" || bf=FAIL
		# new warnings: the builds', and W=1 + sparse on the touched files
		re=$(touched "$c" | sed 's/[.]/[.]/g' | paste -sd'|')
		mapfile -t wf < <(wfiles "$c")
		{
			warnings_of "$row/build-on.log"
			warnings_of "$row/build-off.log"
			[ "$bt" = FAIL ] || wcheck "$out_on" "$row/w1.log" "${re:-^$}" "${wf[@]}"
		} | sort -u | grep -vxF -f "$basew" >"$row/new-warnings" || true
		wn=ok
		[ ! -s "$row/new-warnings" ] || wn=FAIL
		note="built in $((SECONDS - t0)) s; W=1+sparse: ${wf[*]:-none}"
		if [ $bt = ok ] && [ $bf = ok ] && [ $wn = ok ]; then
			echo "$(date -u +%F) $note" >"$cache/$key"
		fi
	fi
	count $bt; count $bf; count $wn
	rowcells+=("$i|$p|$cp_|$mt|$bt|$bf|$wn|$note")
	printf '%3d %-62.62s %-4s %-4s %-4s %-4s %-4s\n' "$i" "$p" "$cp_" "$mt" "$bt" "$bf" "$wn" >&2
done
checkout "${commits[-1]:-$base}" 2>/dev/null || true

# The report.
{
	echo "# The series, patch by patch"
	echo
	echo "Base: $base ($BASE_PKG $BASE_PKG_VERSION, Linux $BASE_KERNELVERSION):" \
		"$([ $basecheck = ok ] && echo "base.conf's BASE_COMMIT" || echo "NOT base.conf's $BASE_COMMIT")."
	echo "'git am' of the mbox ($n patches and the cover letter) on a worktree at the base:" \
		"$applied applied$([ $amcheck = ok ] || echo ", FAILED (log: am.log)")."
	echo "The last patch's tree is the work tree's HEAD: $([ $headcheck = ok ] && echo yes || echo NO)."
	echo
	echo "Columns: checkpatch --strict; MAINTAINERS covers the files the patch adds;" \
		"builds in check-on.config (x86_64, modules); builds in check-off.config (i386, stubs); no new warning" \
		"(the builds', W=1 and sparse on the touched files)."
	echo
	echo "| # | patch | checkpatch | maintainers | build on | build off | new warnings | notes |"
	echo "|---|---|---|---|---|---|---|---|"
	for r in "${rowcells[@]}"; do
		IFS='|' read -r a b c1 d e f g h <<<"$r"
		echo "| $a | $b | $c1 | $d | $e | $f | $g | $h |"
	done
	echo
	echo "## get_maintainer.pl, per patch"
	echo
	echo "(scripts/get_maintainer.pl --no-git --no-git-fallback --no-rolestats PATCH, run in the series tree)"
	for p in "${series[@]}"; do
		echo
		echo "### $p"
		echo
		sed 's/^/    /' "$res/get_maintainer/$p.txt"
	done
} >"$res/report.md"

for r in "${rowcells[@]}"; do
	IFS='|' read -r a b c1 d e f g h <<<"$r"
	for x in "$c1" "$d" "$e" "$f" "$g"; do
		[ "$x" != FAIL ] || { echo "FAIL  patch $a ($b): see $res/rows/$(printf '%04d' "$a")"; break; }
	done
done
printf '%-22s %s\n' "pristine base" "$basecheck" "git am of the mbox" "$amcheck ($applied of $n)" \
	"last tree = HEAD" "$headcheck"
printf 'patches: %d; checks passed %d, failed %d, skipped %d (report: %s)\n' \
	"$n" "$pass" "$fail" "$skip" "$res/report.md"
echo "$pass $fail $skip" >"$res/totals"
exit $((fail > 0))
