#!/usr/bin/env bash
# usage: scripts/export.sh
# Writes the work tree's commits after 'base' back to patches/: one
# 'git format-patch' file per commit (numbered from 0001, no [PATCH n/m]
# counters, zero commit ids, no signature, so that the same commits always
# give the same files), the series file (its '#' comment lines kept before
# the patch they preceded, matched by subject), and 0000-cover-letter.patch
# made from docs/cover-letter.txt plus the shortlog and diffstat.
. "$(dirname "$0")/lib.sh"
[ $# -eq 0 ] || { sed -n '2,8s/^# \{0,1\}//p' "$0" >&2; exit 2; }
need_tree
base=$(base_rev) || die "no '$BASE_TAG' tag in $TREE"
[ -z "$(tgit status --porcelain --untracked-files=no)" ] ||
	warn "the work tree has uncommitted changes; they are not exported"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tgit -c core.abbrev=12 -c diff.renames=true -c diff.noprefix=false \
	-c diff.mnemonicPrefix=false -c diff.algorithm=myers \
	format-patch -q --zero-commit --no-signature -N --no-thread \
	--no-cover-letter --no-base --no-to --no-cc -o "$tmp" "$base..HEAD"

n=$(find "$tmp" -name '*.patch' | wc -l)
find "$PATCHES" -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' -delete
[ "$n" = 0 ] || cp "$tmp"/*.patch "$PATCHES/"

# The series file: patch names in order, old comment lines kept.
python3 - "$PATCHES/series" "$tmp" <<'PY'
import os, re, sys
series, tmp = sys.argv[1], sys.argv[2]
def key(name):  # a patch's identity across renumbering: its name sans number
    return re.sub(r'^\d{4}-', '', name)
head, before, pending = [], {}, []
if os.path.exists(series):
    lines = open(series).read().splitlines()
    seen_patch = False
    for line in lines:
        if line.startswith('#') or not line.strip():
            pending.append(line)
            continue
        if not seen_patch:
            # Leading comments stay at the top, up to the last blank line.
            cut = max((i for i, l in enumerate(pending) if not l.strip()), default=-1) + 1
            head, pending = pending[:cut], pending[cut:]
            seen_patch = True
        before[key(line.strip())] = pending
        pending = []
    if not seen_patch:
        head, pending = pending, []
out = list(head)
for name in sorted(f for f in os.listdir(tmp) if f.endswith('.patch')):
    out += before.get(key(name), [])
    out.append(name)
with open(series, 'w') as f:
    f.write('\n'.join(out) + '\n')
PY

# The cover letter.
src=$TOP/docs/cover-letter.txt
[ -f "$src" ] || die "$src missing"
{
	echo "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001"
	echo "From: $(git -C "$TOP" config user.name) <$(git -C "$TOP" config user.email)>"
	echo "Date: $(tgit log -1 --format=%aD HEAD)"
	echo "Subject: [PATCH 0/$n] $(head -n1 "$src")"
	echo
	tail -n +3 "$src"
	echo
	tgit shortlog "$base..HEAD"
	tgit diff --stat=72 --summary "$base" HEAD
	echo
	echo "base-commit: $base ($BASE_PKG $BASE_PKG_VERSION, Linux $BASE_KERNELVERSION)"
	echo "-- "
} >"$PATCHES/0000-cover-letter.patch"
msg "exported $n patches to patches/"
