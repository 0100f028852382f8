#!/usr/bin/env bash
# usage: scripts/docs.sh [-t TREE] [-b BOOK[,BOOK...]]
# Builds the HTML documentation of the books the series touches (make
# htmldocs SPHINXDIRS=BOOK, for BOOK in core-api and mm) out of tree, in a
# base worktree (build/linux-base, into build/out/docs-base) and in the work
# tree (into build/out/docs-series), each book from scratch so that Sphinx
# reports every warning, and compares the warnings and errors of Sphinx and
# kernel-doc, the tree's path and line numbers dropped: warnings the base
# does not have fail.
#   -t TREE   the series tree to check (default: build/linux)
#   -b BOOKS  the books (SPHINXDIRS) to build instead, comma-separated
# Prints one line per book and writes 'PASSED FAILED 0' to
# build/results/docs/totals, the logs and the warnings of each tree beside
# it.  Exits non-zero when a check fails.
. "$(dirname "$0")/lib.sh"

usage() { sed -n '2,/^\. /{/^\. /d;s/^# \{0,1\}//p}' "$0" >&2; exit 2; }
stree=$TREE books=(core-api mm)
while getopts t:b:h o; do
	case $o in
	t) stree=$(cd "$OPTARG" 2>/dev/null && pwd) || die "no tree at $OPTARG" ;;
	b) IFS=, read -ra books <<<"$OPTARG" ;;
	*) usage ;;
	esac
done
[ $OPTIND -gt $# ] || usage
need_tree
[ -f "$stree/Documentation/Makefile" ] || die "no kernel tree at $stree"
command -v sphinx-build >/dev/null ||
	die "python3-sphinx missing: run scripts/deps.sh"
[ ${#books[@]} -gt 0 ] || usage
for d in "${books[@]}"; do
	[ -f "$stree/Documentation/$d/index.rst" ] || die "no book $d in $stree"
done

res=$BUILD/results/docs
rm -rf "$res"
mkdir -p "$res"
pass=0 fail=0

# A base worktree, for the warnings that are there without the series.
btree=$(base_worktree)

# Build the book DIR of TREE into OUT/Documentation/output/DIR from scratch
# (an incremental Sphinx run reports the warnings of the documents it reads
# again only); its log (Sphinx and kernel-doc write their warnings to stderr)
# is NAME-DIR.log in the results.  YNL_INDEX= keeps htmldocs from generating
# the netlink books' .rst files inside the source tree.
htmldocs() { # TREE OUT NAME DIR
	local start=$SECONDS log=$res/$3-$4.log
	msg "htmldocs $4 of $1 in $2"
	rm -rf "$2/Documentation/output/$4" "$2/Documentation/output/.doctrees/$4"
	make -C "$1" O="$2" -j"$(nproc)" htmldocs SPHINXDIRS="$4" YNL_INDEX= \
		>"$log" 2>&1 ||
		{ tail -40 "$log" >&2; die "htmldocs $4 failed in $1 (log: $log)"; }
	msg "built in $((SECONDS - start)) s"
}
# The warnings and errors of a log, the tree's path and line numbers dropped
# so that base and series compare.
warnings() { # TREE LOG
	{ grep -E '(WARNING|ERROR|CRITICAL|SEVERE)|(warning|error):' "$2" ||
		true; } |
		sed -E -e "s#$1/##g" -e 's/:[0-9]+:/:/g' \
			-e 's/(defined at [^ ]+):[0-9]+/\1/g' | sort
}
for d in "${books[@]}"; do
	htmldocs "$btree" "$BUILD/out/docs-base" base "$d"
	htmldocs "$stree" "$BUILD/out/docs-series" series "$d"
	warnings "$btree" "$res/base-$d.log" >"$res/base-$d.warnings"
	warnings "$stree" "$res/series-$d.log" >"$res/series-$d.warnings"
	msg "$d: $(wc -l <"$res/base-$d.warnings") warnings in the base," \
		"$(wc -l <"$res/series-$d.warnings") in the series"
	comm -13 "$res/base-$d.warnings" "$res/series-$d.warnings" >"$res/new.out"
	check_empty "htmldocs, no new warnings: $d" "$res/new.out"
done
echo "$pass $fail 0" >"$res/totals"
exit $((fail > 0))
