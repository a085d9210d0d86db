#!/bin/bash
# Install the Debian packages the test suite runs for real: ZooKeeper for
# a real nodepool-launcher, bubblewrap for Zuul's ConnectionRegistry and
# executor, debootstrap and iproute2 for the Ansible role tests and
# benchmarks, qemu-user-static for the emulated aarch64 node (registered
# in binfmt_misc by tools/binfmt-aarch64.sh), and qemu-system-arm with
# the AAVMF firmware and the disk and ISO tools for UEFI image boots.
# Safe to run again; needs root (CI runs as root).
set -eu

packages=(
    binfmt-support
    bubblewrap
    debootstrap
    docker-registry
    default-jre-headless
    dosfstools
    e2fsprogs
    fdisk
    git
    iproute2
    mtools
    openssh-client
    openssl
    qemu-efi-aarch64
    qemu-system-arm
    qemu-user-static
    xorriso
    zookeeper
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
        || missing+=("$p")
done

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ ${#missing[@]} -gt 0 ]; then
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

$SUDO "$(dirname "$0")/binfmt-aarch64.sh"
