#!/bin/sh
# Installs the named Debian packages that are not installed yet, and nothing else: for what the
# tests and the scheduler scripts need beyond npm (GNU parallel, Slurm, munge). Safe to run again:
# with everything present it makes no network call. Needs root (CI runs as root, without a TTY).
#   usage: scripts/ensure-packages.sh PACKAGE...
set -eu

missing=''
for package in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $package"
  fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-packages: missing:$missing; run as root (or install them) to go on" >&2
  exit 1
fi
echo "ensure-packages: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Quiet on success; on failure apt's own message says why.
apt-get update -qq >&2
# shellcheck disable=SC2086 # one word per package, on purpose
apt-get install -y -qq --no-install-recommends $missing >&2
