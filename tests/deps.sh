#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing capstan need.
set -euo pipefail
pkgs=(
  build-essential meson ninja-build pkg-config
  libcurl4-openssl-dev libyaml-dev libarchive-dev zlib1g-dev libsqlite3-dev libvirt-dev libcmocka-dev
  qemu-system-x86 qemu-utils musl-tools mandoc clang lld libclang-rt-14-dev
  nginx libnginx-mod-http-dav-ext redis-server redis-tools erlang-base wrk libvirt-daemon libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
  binutils util-linux clang-format git g++ golang-go rustc
  python3 python3-yaml sqlite3 lua5.4 coreutils curl openssl tmux cpio xz-utils file procps iproute2 ca-certificates hyperfine
  busybox-static bash-static zsh-static
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
