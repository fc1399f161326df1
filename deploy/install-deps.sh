#!/usr/bin/env bash
# install-deps.sh - installs everything Strata needs to build, test and run, from
# Debian 12 packages only. Idempotent: when everything is present it prints nothing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libgrpc-dev libprotobuf-c-dev protobuf-c-compiler
  libsodium-dev liblmdb-dev libraft-dev libuv1-dev
  clang libclang-rt-14-dev clang-format cppcheck
  python3 python3-grpcio python3-grpc-tools python3-cryptography
  libssl-dev openssl
  iproute2
  etcd-server etcd-client linux-perf  # strata-bench: etcd to compare with, perf profiles
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
