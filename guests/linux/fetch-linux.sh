#!/usr/bin/env bash
# Fetches Debian's unmodified i386 Linux kernel (linux-image-686) and busybox-static with the ordinary Debian tools
# and builds a small busybox initramfs for it. Nothing it downloads belongs in git: it all goes to the cache folder.
#
#   guests/linux/fetch-linux.sh                   fetch (once) into the cache and build initrd.gz
#   guests/linux/fetch-linux.sh --script FILE     also build initrd-NAME.gz whose /init runs FILE (NAME = its basename)
#   guests/linux/fetch-linux.sh --print-dir       print the cache folder and exit
#
# The cache is $HVLAB_LINUX_DIR, or $HOME/.cache/hvlab/linux. It holds:
#   vmlinuz            the bzImage from linux-image-<version>-686 (boot/vmlinuz-<version>-686)
#   busybox            the static i386 busybox from busybox-static:i386
#   initrd.gz          newc cpio, gzip'd: busybox, its applet links and /init (mounts proc, sys, dev; runs /test.sh
#                      if present, then powers off; otherwise a shell on the console)
#   kernel-package     the name and version of the kernel package, e.g. "linux-image-6.1.0-37-686 6.1.140-1"
#   debs/              the .deb files as apt-get downloaded them
#
# Needs root (dpkg --add-architecture i386 and apt-get update), or an i386-enabled apt that is up to date. Runs on a
# fresh Debian 12; installs cpio when it is missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=${HVLAB_LINUX_DIR:-$HOME/.cache/hvlab/linux}
scripts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --script) scripts+=("$2"); shift 2 ;;
    --print-dir) echo "$dir"; exit 0 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch-linux: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

say() { echo "fetch-linux: $*" >&2; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

need_tools() {
  local missing=()
  command -v cpio >/dev/null || missing+=(cpio)
  command -v gzip >/dev/null || missing+=(gzip)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# linux-image-686 is a metapackage; the kernel is in the versioned package it depends on.
kernel_package() {
  apt-cache depends --no-recommends --no-suggests linux-image-686:i386 2>/dev/null \
    | sed -n 's/^ *Depends: \(linux-image-[0-9][^ :]*-686\)\(:i386\)\{0,1\}$/\1/p' | head -n 1
}

fetch() {
  if ! dpkg --print-foreign-architectures | grep -qx i386 && [ "$(dpkg --print-architecture)" != i386 ]; then
    say "adding the i386 architecture to dpkg"
    $sudo dpkg --add-architecture i386
  fi
  say "apt-get update"
  # a mirror that is syncing fails one index now and then; what matters is that the packages below resolve
  $sudo apt-get update -qq || say "apt-get update reported errors; going on with the package lists apt has"
  local kernel
  kernel=$(kernel_package)
  if [ -z "$kernel" ]; then
    echo "fetch-linux: apt-cache finds no linux-image-*-686 package that linux-image-686:i386 depends on" >&2
    exit 1
  fi
  say "downloading $kernel:i386 and busybox-static:i386"
  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  # apt-get download writes to the current folder; as root it fetches as the user _apt, who may write there
  mkdir -p "$work/debs" "$dir/debs"
  chmod 755 "$work"
  chmod 777 "$work/debs"
  (cd "$work/debs" && apt-get download -q "$kernel:i386" busybox-static:i386 >&2)
  rm -f "$dir"/debs/*.deb
  mv "$work"/debs/*.deb "$dir/debs/"
  dpkg-deb -x "$dir/debs/${kernel}"_*_i386.deb "$work/kernel"
  dpkg-deb -x "$dir/debs/"busybox-static_*_i386.deb "$work/busybox"
  local vmlinuz
  vmlinuz=$(find "$work/kernel/boot" -name 'vmlinuz-*' | head -n 1)
  [ -n "$vmlinuz" ] || { echo "fetch-linux: no boot/vmlinuz-* in $kernel" >&2; exit 1; }
  cp "$vmlinuz" "$dir/vmlinuz.new" && mv "$dir/vmlinuz.new" "$dir/vmlinuz"
  cp "$work/busybox/bin/busybox" "$dir/busybox"
  echo "$kernel $(dpkg-deb -f "$dir/debs/${kernel}"_*_i386.deb Version)" > "$dir/kernel-package"
}

# Builds a newc cpio (gzip'd) holding busybox, /init and, when given, /test.sh. /init installs busybox's applet links
# itself; /dev/console comes from the kernel's own built-in initramfs, which is unpacked first.
build_initramfs() {
  local script=$1 out=$2
  local root
  root=$(mktemp -d)
  trap 'rm -rf "$root"' RETURN
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc}
  install -m 755 "$dir/busybox" "$root/bin/busybox"
  ln -s busybox "$root/bin/sh"
  install -m 755 "$here/init" "$root/init"
  if [ -n "$script" ]; then
    install -m 755 "$script" "$root/test.sh"
  fi
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9 -n > "$out.new"
  mv "$out.new" "$out"
}

need_tools
if [ ! -s "$dir/vmlinuz" ] || [ ! -s "$dir/busybox" ] || [ ! -s "$dir/kernel-package" ]; then
  fetch
else
  say "using the cached $(cat "$dir/kernel-package") in $dir"
fi
build_initramfs "" "$dir/initrd.gz"
for s in ${scripts[@]+"${scripts[@]}"}; do
  name=$(basename "$s")
  name=${name%.sh}
  build_initramfs "$s" "$dir/initrd-$name.gz"
  say "built $dir/initrd-$name.gz (runs $s)"
done
say "ready: $dir/vmlinuz $dir/initrd.gz ($(cat "$dir/kernel-package"))"
