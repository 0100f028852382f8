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

# make in the work tree, out of tree, with ccache when it is installed.
kmake() {
	local out=$1; shift
	local cc=gcc
	command -v ccache >/dev/null && cc="ccache gcc"
	make -C "$TREE" O="$out" ARCH=x86_64 CC="$cc" HOSTCC="$cc" "$@"
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
