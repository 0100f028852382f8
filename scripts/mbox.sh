#!/usr/bin/env bash
# usage: scripts/mbox.sh [FILE]
# Writes the series as one mbox, ready for 'git send-email FILE' or for
# 'git am': the cover letter, then every patch of patches/series in order,
# numbered '[PATCH n/N]' (the exported files carry no counters, so that
# renumbering does not rewrite every patch).  FILE defaults to
# build/series.mbox.  The cover letter has no diff: 'git am' stops on it
# ("Patch is empty"); 'git am --skip' goes on with patch 1.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
case "${1:-}" in -*) sed -n '2,8s/^# \{0,1\}//p' "$0" >&2; exit 2 ;; esac
[ $# -le 1 ] || { sed -n '2,8s/^# \{0,1\}//p' "$0" >&2; exit 2; }
out=${1:-$BUILD/series.mbox}
mapfile -t series < <(grep -v '^[[:space:]]*\(#\|$\)' "$PATCHES/series")
n=${#series[@]}
[ "$n" -gt 0 ] || die "$PATCHES/series names no patch"
mkdir -p "$(dirname "$out")"
{
	cat "$PATCHES/0000-cover-letter.patch"
	echo
	i=0
	for p in "${series[@]}"; do
		i=$((i + 1))
		[ -f "$PATCHES/$p" ] || die "series names $p, which is not in patches/"
		# Only the first Subject line, in the headers (before the first
		# blank line), gets its counter.
		awk -v c="$i/$n" 'hdr && /^Subject: \[PATCH\] / { sub(/^Subject: \[PATCH\]/, "Subject: [PATCH " c "]"); hdr = 0 }
			/^$/ { hdr = 0 } NR == 1 { hdr = 1 } { print }' "$PATCHES/$p"
		echo
	done
} >"$out.tmp"
grep -q "^Subject: \[PATCH 0/$n\] " "$out.tmp" ||
	die "the cover letter says another patch count than the $n of the series: run scripts/export.sh"
mv "$out.tmp" "$out"
msg "wrote $out: the cover letter and $n patches"
