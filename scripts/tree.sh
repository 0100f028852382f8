#!/usr/bin/env bash
# usage: scripts/tree.sh [--force]
# Makes the kernel work tree build/linux: the base tree imported as one
# commit (tagged 'base'), then the series applied with 'git am'.
# An existing tree is left alone; --force resets it to base + patches/
# (commits that were not exported are lost).
. "$(dirname "$0")/lib.sh"

force=0
case "${1:-}" in
"") ;;
--force) force=1 ;;
*) sed -n '2,6s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac

import_base() {
	[ -f "$BASE_TARBALL" ] || die "$BASE_TARBALL missing: run scripts/deps.sh"
	local tmp=$TREE.import
	rm -rf "$tmp"
	mkdir -p "$tmp"
	msg "extracting $BASE_TARBALL"
	tar -xJf "$BASE_TARBALL" -C "$tmp" --strip-components=1
	local v
	v=$(make -s -C "$tmp" kernelversion)
	[ "$v" = "$BASE_KERNELVERSION" ] ||
		warn "base tree is $v, not the recorded $BASE_KERNELVERSION: trying it anyway"
	# Debian's top-level .gitignore ends by ignoring everything at the
	# top level; drop that block so new files show up in 'git status'.
	sed -i '/^# Debian packaging: ignore everything/,$d' "$tmp/.gitignore"
	sed -i '${/^#$/d}' "$tmp/.gitignore"
	msg "importing the base tree into git (takes a minute or two)"
	git -C "$tmp" init -q -b main
	git -C "$tmp" -c core.looseCompression=1 add -f -A
	local name=${BASE_AUTHOR% <*} email=${BASE_AUTHOR#*<}
	email=${email%>}
	GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=$email GIT_AUTHOR_DATE=$BASE_DATE \
	GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email GIT_COMMITTER_DATE=$BASE_DATE \
		git -C "$tmp" commit -q --no-verify -m "Linux $v ($BASE_PKG $BASE_PKG_VERSION)"
	git -C "$tmp" tag "$BASE_TAG"
	mv "$tmp" "$TREE"
	local got
	got=$(base_rev)
	if [ -z "$BASE_COMMIT" ]; then
		msg "base commit $got (record it as BASE_COMMIT in base.conf)"
	elif [ "$got" != "$BASE_COMMIT" ]; then
		warn "base commit is $got, base.conf records $BASE_COMMIT:" \
		     "the base tree differs from the one the series was made on"
	fi
}

apply_series() {
	local p n=0
	while read -r p; do
		[ -n "$p" ] || continue
		[ -f "$PATCHES/$p" ] || die "series names $p, which is not in patches/"
		if ! tgit am -q --whitespace=nowarn "$PATCHES/$p" >"$BUILD/am.log" 2>&1; then
			cat "$BUILD/am.log" >&2
			tgit am --abort || true
			die "patch $p does not apply to the work tree"
		fi
		n=$((n + 1))
	done < <(grep -v '^[[:space:]]*\(#\|$\)' "$PATCHES/series")
	msg "applied $n patches on $(tgit describe --tags --always "$BASE_TAG")"
}

mkdir -p "$BUILD"
# git am needs a committer; a fresh machine may have none configured.
git config user.email >/dev/null || export GIT_COMMITTER_NAME="patch queue" \
	GIT_COMMITTER_EMAIL="patch-queue@invalid"

if [ -d "$TREE/.git" ]; then
	if [ $force = 0 ]; then
		msg "work tree $TREE exists; 'make tree FORCE=1' resets it to base + patches/"
		exit 0
	fi
	[ -n "$(base_rev)" ] || die "$TREE has no '$BASE_TAG' tag: remove it and run again"
	tgit am --abort >/dev/null 2>&1 || true
	tgit checkout -q -f main
	tgit reset -q --hard "$BASE_TAG"
	tgit clean -q -fdx
else
	rm -rf "$TREE"
	import_base
fi
apply_series
