#!/usr/bin/env bash
# Installs the Debian 12 packages covoit needs, only those that are missing (run as root on a fresh machine).
set -euo pipefail
pkgs=(build-essential cmake pkg-config libosmium2-dev libprotozero-dev zlib1g-dev libbz2-dev libexpat1-dev
      libmicrohttpd-dev libsqlite3-dev libjansson-dev libcmocka-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
