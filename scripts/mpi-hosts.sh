#!/usr/bin/env bash
# Hosts you can test MPI on, on one machine: N network namespaces (s2s-h0 … s2s-h{N-1}), each with
# its own address 10.77.0.(i+1) on a veth pair joined to a bridge (br-s2s, 10.77.0.254 in the root
# namespace, where mpirun runs), each link shaped to a bandwidth with tc (tbf), and optionally a
# latency (netem, where the kernel has it). Ranks then reach each other only over TCP through the
# shaped links. `scripts/mpi-netns-agent.sh` is the launch agent that starts each rank's daemon in
# its namespace (Open MPI's plm_rsh_agent). Needs root (ip, tc).
#
#   bash scripts/mpi-hosts.sh up N [RATE] [DELAY]   e.g. up 2 1gbit 0.2ms (RATE default 1gbit)
#   bash scripts/mpi-hosts.sh down                   removes every namespace, veth and the bridge
#   bash scripts/mpi-hosts.sh mpirun-options         the mpirun options that use them
#
# `up` prints the host list (10.77.0.1,10.77.0.2,…). A DELAY needs the kernel's sch_netem; without
# it `up` says so and fails, rather than measuring an unshaped link as a slow one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix=s2s-h bridge=br-s2s net=10.77.0

down() {
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$prefix" || true); do
    # Processes left inside (a daemon of a job that failed) would outlive the namespace: end them.
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  # The per-namespace session directories of Open MPI's daemons (scripts/mpi-netns-agent.sh).
  rm -rf /run/s2s-mpi "${TMPDIR:-/tmp}/s2s-mpi"
  local link
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep "^v$prefix" || true); do ip link del "$link" 2>/dev/null || true; done
  ip link del "$bridge" 2>/dev/null || true
}

up() {
  local n=$1 rate=${2:-1gbit} delay=${3:-}
  [[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le 64 ]] || { echo "mpi-hosts: N must be 1…64, got $n" >&2; exit 2; }
  down
  trap 'down' ERR
  ip link add "$bridge" type bridge
  ip addr add "$net.254/24" dev "$bridge"
  ip link set "$bridge" up
  local i hosts=()
  for ((i = 0; i < n; i++)); do
    local ns=$prefix$i
    ip netns add "$ns"
    ip link add "v$ns" type veth peer name "e$ns"
    ip link set "e$ns" netns "$ns"
    ip link set "v$ns" master "$bridge"
    ip link set "v$ns" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$net.$((i + 1))/24" dev "e$ns"
    ip -n "$ns" link set "e$ns" up
    # Shape what the namespace sends (its egress) and what it receives (the bridge side's egress).
    local side
    for side in "ip netns exec $ns tc qdisc add dev e$ns" "tc qdisc add dev v$ns"; do
      if [ -n "$delay" ]; then
        $side root netem delay "$delay" rate "$rate" 2>/dev/null \
          || { echo "mpi-hosts: this kernel has no netem (sch_netem): cannot add a $delay latency" >&2; down; exit 1; }
      else
        $side root tbf rate "$rate" burst 256kb latency 100ms
      fi
    done
    hosts+=("$net.$((i + 1))")
  done
  trap - ERR
  (IFS=,; echo "${hosts[*]}")
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  mpirun-options)
    # Daemons started in the namespaces by the agent; TCP only, over the namespaces' network.
    echo "--mca plm_rsh_agent $here/mpi-netns-agent.sh --mca btl tcp,self --mca btl_tcp_if_include $net.0/24 --mca oob_tcp_if_include $net.0/24" ;;
  *) echo "usage: bash scripts/mpi-hosts.sh up N [RATE] [DELAY] | down | mpirun-options" >&2; exit 2 ;;
esac
