#!/bin/bash
# Install the Debian packages the test suite runs for real: ZooKeeper for
# a real nodepool-launcher, bubblewrap for Zuul's ConnectionRegistry,
# debootstrap and iproute2 for the Ansible role tests and benchmarks.
# Safe to run again; needs root (CI runs as root).
set -eu

packages=(
    bubblewrap
    debootstrap
    default-jre-headless
    git
    iproute2
    openssl
    zookeeper
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
        || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
