#!/usr/bin/env bash
# Issue 30's training figures in one sitting: `seq2seq bench train` on the six variants (small,
# medium, small --bidirectional, small --cell gru, small/medium --attention general), alternating
# pair by pair with the PyTorch peer (`torch_seq2seq.py --mode train`; ours first in odd rounds,
# the peer first in even ones), target tokens/s and the ratio of each pair, and after each of our
# runs the round trip of a cache line between two CPUs (a VM's vCPUs move between sharing an L3,
# about 100 ns, and not, 300 ns or more; our 2-thread step moves with them by about 10 %). Release
# build, 2 threads both sides, nothing set in the environment: our side runs --gemm auto unless GEMM
# says otherwise. Run it on a quiet machine; it prints the CPU.
#   bash scripts/gemm-benchmark.sh
# Environment: PEER (a python with torch, default ~/torch-env/bin/python), ROUNDS (default 3),
# THREADS (default 2), GEMM (our --gemm, default auto), VARIANTS (default all six, e.g.
# "small medium"), STEPS (timed steps per run, default 10 both sides), OURS (more flags for our side,
# e.g. "--max-isa avx2" to measure what an AVX2-only CPU gets), PEER_ENV (variables for the peer
# only, e.g. "ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2" with it).
set -euo pipefail
cd "$(dirname "$0")/.."
PEER=${PEER:-$HOME/torch-env/bin/python}; ROUNDS=${ROUNDS:-3}; THREADS=${THREADS:-2}; GEMM=${GEMM:-auto}
STEPS=${STEPS:-10}; OURS=${OURS:-}; PEER_ENV=${PEER_ENV:-}
VARIANTS=${VARIANTS:-"small medium small-bi small-gru small-attn medium-attn"}
swift build -c release --product seq2seq >&2
S=.build/release/seq2seq
peer=../shared/peers/torch_seq2seq.py
flags() {  # variant -> preset and flags shared by both sides
  case $1 in
    small) echo "small" ;;
    medium) echo "medium" ;;
    small-bi) echo "small --bidirectional" ;;
    small-gru) echo "small --cell gru" ;;
    small-attn) echo "small --attention general" ;;
    medium-attn) echo "medium --attention general" ;;
    *) echo "unknown variant $1" >&2; exit 2 ;;
  esac
}
echo "# $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p'), family $(lscpu | sed -n 's/^CPU family: *//p') model $(lscpu | sed -n 's/^Model: *//p'), $(grep -o 'avx512f\|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')load $(cut -d' ' -f1-3 /proc/loadavg), --gemm $GEMM $OURS${PEER_ENV:+, peer: $PEER_ENV}"
for round in $(seq "$ROUNDS"); do
  for v in $VARIANTS; do
    read -r preset rest <<<"$(flags "$v")"
    run_ours() {
      # shellcheck disable=SC2086
      json=$($S bench train --preset "$preset" $rest --threads "$THREADS" --gemm "$GEMM" --steps "$STEPS" $OURS --format json)
      ours=$(sed -n 's/.*"target_tokens_per_s":\([0-9.]*\).*/\1/p' <<<"$json")
      trip=$(sed -n 's/.*"core_round_trip_ns":\(null\|[0-9.][0-9.]*\).*/\1/p' <<<"$json")
    }
    run_theirs() {
      # shellcheck disable=SC2086
      theirs=$(env $PEER_ENV "$PEER" "$peer" --config "$preset" $rest --threads "$THREADS" --mode train --steps "$STEPS" 2>/dev/null \
        | grep '^RESULT' | sed -n 's/.*"tgt_tok_per_s": *\([0-9.]*\).*/\1/p')
    }
    # Who goes first alternates by round, so that neither side always runs right after the other's
    # largest run (the VM's speed drifts over tens of seconds).
    if (( round % 2 == 1 )); then run_ours; run_theirs; else run_theirs; run_ours; fi
    awk -v r="$round" -v v="$v" -v o="$ours" -v t="$theirs" -v rt="$trip" \
      'BEGIN { printf "round %s  %-12s ours %9.1f  pytorch %9.1f  ratio %.2f  (CPU round trip %s ns)\n", r, v, o, t, o / t, rt }'
  done
done
