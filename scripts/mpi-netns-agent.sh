#!/usr/bin/env bash
# Open MPI's launch agent (plm_rsh_agent) for the namespaces of scripts/mpi-hosts.sh: called as
# `agent [options] HOST COMMAND…` like ssh, it runs COMMAND with /bin/sh inside the namespace that
# owns HOST's address (10.77.0.(i+1) → s2s-h<i>).
#
# Every namespace shares this machine's hostname and /tmp, where real hosts have their own: Open
# MPI's daemons would then share one session directory (ompi.<hostname>.<uid>/jf.<job family>)
# and its PMIx shared-memory store, and one daemon's set-up or clean-up breaks the other's
# (measured: 5 of 30 `mpirun -np 2 /bin/true` over two namespaces failed, "session_dir.c at line
# 107" or a segmentation fault; 0 of 40 with a directory per namespace). So each namespace's
# daemon gets a session directory base of its own, as on a host of its own.
set -euo pipefail
while [[ ${1:-} == -* ]]; do shift; done   # ssh-style options Open MPI may pass (-x, -o …)
host=$1; shift
last=${host##*.}
[[ $host == 10.77.0.* && $last =~ ^[0-9]+$ && $last -ge 1 ]] || { echo "mpi-netns-agent: $host is not a namespace host" >&2; exit 255; }
ns="s2s-h$((last - 1))"
# Under /run (root's, not world-writable) where it can be; a directory someone else made or a
# symbolic link in its place is refused rather than followed.
base=/run/s2s-mpi
[[ -d /run && -w /run ]] || base="${TMPDIR:-/tmp}/s2s-mpi"
session="$base/$ns"
for dir in "$base" "$session"; do
  mkdir -p -m 700 "$dir"
  [[ ! -L $dir && -O $dir ]] || { echo "mpi-netns-agent: $dir is not a directory of ours" >&2; exit 255; }
done
export OMPI_MCA_orte_tmpdir_base="$session"
exec ip netns exec "$ns" /bin/sh -c "$*"
