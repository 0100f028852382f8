#!/usr/bin/env bash
# usage: scripts/deps.sh
# Installs (as root, with apt-get) what building and testing the series
# needs: the pinned base tree package, the kernel build tools, QEMU, and
# what goes into the test initramfs (busybox, fio, libibverbs and rxe,
# the libraries of pyverbs), and Sphinx for the documentation check.
# Does nothing when everything is already installed.
. "$(dirname "$0")/lib.sh"
[ $# -eq 0 ] || { sed -n '2,6s/^# \{0,1\}//p' "$0" >&2; exit 2; }

PKGS=(build-essential bc bison flex libelf-dev libssl-dev cpio kmod rsync
      xz-utils ccache sparse codespell python3 qemu-system-x86
      busybox-static python3-ply python3-git fio e2fsprogs
      ibverbs-utils ibverbs-providers libibverbs-dev iproute2
      librdmacm1 libpython3.11	# for rxe.sh -P (its pyverbs is not installed)
      python3-sphinx)		# for docs.sh (make htmldocs)

installed() { dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null; }

missing=()
for p in "${PKGS[@]}"; do
	installed "$p" | grep -q '^install ok installed' || missing+=("$p")
done
src=$(installed "$BASE_PKG" || true)
case "$src" in
"install ok installed $BASE_PKG_VERSION") src_ok=1 ;;
*) src_ok=0 ;;
esac
[ ${#missing[@]} -eq 0 ] && [ $src_ok = 1 ] && exit 0

[ "$(id -u)" = 0 ] || die "missing packages (${missing[*]} $BASE_PKG): run as root"
export DEBIAN_FRONTEND=noninteractive
msg "apt-get install ${missing[*]} $BASE_PKG=$BASE_PKG_VERSION"
apt-get update -q >/dev/null
if [ $src_ok = 0 ]; then
	# Not 'madison | grep -q': grep stops at the first match, madison
	# dies of SIGPIPE, and pipefail turns the match into a failure.
	offered=$(apt-cache madison "$BASE_PKG")
	if grep -q " $BASE_PKG_VERSION " <<<"$offered"; then
		missing+=("$BASE_PKG=$BASE_PKG_VERSION")
	else
		warn "$BASE_PKG $BASE_PKG_VERSION is no longer in the archive;" \
		     "using the version it offers: the series may not apply"
		missing+=("$BASE_PKG")
	fi
fi
apt-get install -y -q --allow-downgrades "${missing[@]}" >/dev/null
