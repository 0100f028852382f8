# shellcheck shell=bash
# Helpers shared by every script in scripts/: paths, messages, the base
# tree's identity and the QEMU modes.  Source it; do not run it.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
TREE=${TREE:-$BUILD/linux}
PATCHES=$TOP/patches
# shellcheck source=../base.conf
. "$TOP/base.conf"

# ccache: hash paths relative to the repository, so that clones in other
# folders share the cache.
export CCACHE_BASEDIR=$TOP CCACHE_NOHASHDIR=1

msg() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Run git in the kernel work tree.
tgit() { git -C "$TREE" "$@"; }

# The base commit of the work tree (tagged when the tree is made).
base_rev() { tgit rev-parse --verify -q "refs/tags/$BASE_TAG^{commit}"; }

# Output directory of a build configuration (configs/NAME.config).
outdir() { printf '%s/out/%s\n' "$BUILD" "$1"; }

need_tree() {
	[ -d "$TREE/.git" ] || die "no work tree at $TREE: run 'make tree' first"
}

# The base tree as a worktree of the work tree, checked out at the base tag:
# build/linux-base.  Prints its path.
BASE_TREE=$BUILD/linux-base
base_worktree() {
	local base
	base=$(base_rev) || die "the work tree has no '$BASE_TAG' tag"
	if [ ! -d "$BASE_TREE" ]; then
		tgit worktree prune
		tgit worktree add -q --detach "$BASE_TREE" "$base"
	fi
	git -C "$BASE_TREE" checkout -q --detach "$base"
	printf '%s\n' "$BASE_TREE"
}

# A busybox initramfs root in DIR (emptied first): bin/ with busybox and
# its applets, dev/ proc/ sys/ tmp/.  The caller adds bin/* and init.
initramfs_skeleton() { # DIR
	local c
	[ -x /bin/busybox ] || die "/bin/busybox missing: run scripts/deps.sh"
	rm -rf "$1"
	mkdir -p "$1"/{bin,dev,proc,sys,tmp}
	cp /bin/busybox "$1/bin/busybox"
	for c in $(/bin/busybox --list); do
		[ -e "$1/bin/$c" ] || ln -s busybox "$1/bin/$c"
	done
}

# Copy the program or library BINARY to ROOT/DEST (a path in the guest)
# with every library ldd lists and the loader (what it dlopens, the
# caller copies).
copy_with_libs() { # BINARY ROOT DEST
	local f
	mkdir -p "$2$(dirname "$3")"
	cp "$1" "$2$3"
	for f in $(ldd "$1" | grep -o '/[^ ]*'); do
		mkdir -p "$2$(dirname "$f")"
		cp -L "$f" "$2$f"
	done
}

# One check of lint.sh and docs.sh: passes when FILE is empty.  Prints
# 'ok    NAME', or 'FAIL  NAME' and the start of FILE, and counts it in the
# caller's variables pass and fail.
check_empty() { # NAME FILE
	if [ -s "$2" ]; then
		fail=$((fail + 1))
		printf 'FAIL  %s\n' "$1"
		sed 's/^/      /' "$2" | head -n 30
	else
		pass=$((pass + 1))
		printf 'ok    %s\n' "$1"
	fi
}

# Pack the initramfs root DIR into the cpio archive FILE.
initramfs_pack() { # DIR FILE
	(cd "$1" && find . | cpio -o -H newc --quiet) >"$2"
}

# make in the work tree, out of tree, with ccache when it is installed;
# for ARCH=x86_64, or KARCH.
kmake() {
	local out=$1; shift
	local cc=gcc
	command -v ccache >/dev/null && cc="ccache gcc"
	make -C "$TREE" O="$out" ARCH="${KARCH:-x86_64}" CC="$cc" HOSTCC="$cc" "$@"
}

# Build the tree TREE out of tree into OUT with kunit.py from the
# kunitconfig fragments FRAGMENT... (kunit.py merges them and fails when an
# option does not survive olddefconfig), then its user-space headers
# (OUT/usr/include).  Incremental; the log is OUT/build.log.
kunit_build() { # TREE OUT FRAGMENT...
	local cc=gcc start=$SECONDS tree=$1 out=$2 f frags=()
	shift 2
	for f; do frags+=(--kunitconfig="$f"); done
	command -v ccache >/dev/null && cc="ccache gcc"
	mkdir -p "$out"
	set -- "$tree" "$out"
	msg "building ${frags[*]##*/} of $1 in $2"
	python3 "$1/tools/testing/kunit/kunit.py" build --arch=x86_64 \
		--build_dir="$2" "${frags[@]}" --jobs="$(nproc)" \
		--make_options "CC=$cc" --make_options "HOSTCC=$cc" >"$2/build.log" 2>&1 &&
		TREE=$1 kmake "$2" -s headers >>"$2/build.log" 2>&1 ||
		{ tail -40 "$2/build.log" >&2; die "build failed (log: $2/build.log)"; }
	grep -E '(^|[^a-z])(warning|error):' "$2/build.log" >&2 || true
	msg "built in $((SECONDS - start)) s"
}

# Wait for the QEMU process PID until the command DONE... succeeds (then
# give the guest 2 s more and stop it) or SECS seconds have passed (then
# note it in LOG and stop it).  Returns when QEMU is gone.
stop_guest_when() { # PID SECS LOG DONE...
	local pid=$1 secs=$2 log=$3 waited=0
	shift 3
	while kill -0 "$pid" 2>/dev/null; do
		if "$@"; then
			sleep 2
			kill "$pid" 2>/dev/null || true
			break
		fi
		if [ "$waited" -ge "$secs" ]; then
			echo "${0##*/}: guest stopped after $secs s" >>"$log"
			kill "$pid" 2>/dev/null || true
			break
		fi
		sleep 1
		waited=$((waited + 1))
	done
	wait "$pid" 2>/dev/null || true
}
