#!/usr/bin/env bash
# Open MPI's launch agent (plm_rsh_agent) for the namespaces of scripts/mpi-hosts.sh: called as
# `agent [options] HOST COMMAND…` like ssh, it runs COMMAND with /bin/sh inside the namespace that
# owns HOST's address (10.77.0.(i+1) → s2s-h<i>).
set -euo pipefail
while [[ ${1:-} == -* ]]; do shift; done   # ssh-style options Open MPI may pass (-x, -o …)
host=$1; shift
last=${host##*.}
[[ $host == 10.77.0.* && $last =~ ^[0-9]+$ && $last -ge 1 ]] || { echo "mpi-netns-agent: $host is not a namespace host" >&2; exit 255; }
exec ip netns exec "s2s-h$((last - 1))" /bin/sh -c "$*"
