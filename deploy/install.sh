#!/usr/bin/env bash
# Installs what novanet needs and lacks: its npm dependencies, and the system packages
# nats-server, OVN (central + host), Open vSwitch and the tools the dataplane tests use
# (and the reference CNI plugins, chained after novanet-cni).
# Idempotent: does nothing when everything is present. System packages come from apt
# (Debian/Ubuntu) only; elsewhere it says what to install and fails.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm ci records what it installed in node_modules/.package-lock.json: install again when
# that is missing or older than package-lock.json (a checkout changed the dependencies).
# Dev dependencies whatever NODE_ENV says: the build needs tsc, the tests ava. --prefer-offline
# takes a tarball from npm's cache when it is there instead of asking the registry about it
# again (the lockfile pins every version and its integrity either way): half of npm ci's time.
if [ ! -e node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "novanet: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --include=dev --prefer-offline >&2
fi

need=()
command -v nats-server  >/dev/null || need+=(nats-server)
command -v ovsdb-server >/dev/null || need+=(openvswitch-switch)
command -v ovs-vswitchd >/dev/null || need+=(openvswitch-switch)
command -v ovn-northd   >/dev/null || need+=(ovn-central)
command -v ovn-controller >/dev/null || need+=(ovn-host)
command -v ovn-nbctl    >/dev/null || need+=(ovn-common)
command -v busybox      >/dev/null || need+=(busybox)
command -v ethtool      >/dev/null || need+=(ethtool)
command -v ip           >/dev/null || need+=(iproute2)
command -v tcpdump      >/dev/null || need+=(tcpdump)
command -v dot          >/dev/null || need+=(graphviz)   # novanet topology -o svg
# The reference CNI plugins (tuning, portmap, …): chained after novanet-cni in the tests.
[ -x /usr/lib/cni/tuning ]         || need+=(containernetworking-plugins)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
# shellcheck disable=SC2207
need=($(printf '%s\n' "${need[@]}" | sort -u))

if ! command -v apt-get >/dev/null; then
  echo "novanet: missing system packages: ${need[*]}" >&2
  echo "novanet: this script only knows apt (Debian/Ubuntu); install them by hand." >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "novanet: need root to install: ${need[*]}" >&2; exit 1
  fi
fi

echo "novanet: installing ${need[*]} (apt)" >&2
# The packages' own services are not wanted: novanet and its tests start every
# daemon themselves, with their own run directories. policy-rc.d stops the
# postinst scripts from starting them (and from failing where there is no init).
created_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
trap '[ -n "$created_policy" ] && $sudo rm -f /usr/sbin/policy-rc.d' EXIT

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "novanet: system packages installed" >&2
