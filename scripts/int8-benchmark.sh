#!/usr/bin/env bash
# Issue 16's speed figures in one sitting: `seq2seq bench translate` on the small preset with general
# attention (input feeding), beam 5, batch 1 and 64, as float32, int8, int8 + a shortlist of S ids
# and float32 + the same shortlist, alternating round by round with the PyTorch peer in float32 and
# with `--quantize int8` (quantize_dynamic). One line per measurement: who, variant, batch,
# sentences/s. Release build. Run it on a quiet machine and say which CPU (lscpu flags).
#   bash scripts/int8-benchmark.sh
# Environment: PEER (a python with torch, default ~/torch-env/bin/python), ROUNDS (default 3),
# THREADS (default 2, both sides), S1 and S64 (shortlist ids per batch at batch 1 and 64, default
# 234 and 2221: what the Multi30k De→En shortlist gives on val, `seq2seq shortlist --report-on`),
# EXTRA (more bench flags for both sides' shape, e.g. "--preset medium" for ours only).
set -euo pipefail
cd "$(dirname "$0")/.."
PEER=${PEER:-$HOME/torch-env/bin/python}; ROUNDS=${ROUNDS:-3}; THREADS=${THREADS:-2}
S1=${S1:-234}; S64=${S64:-2221}
swift build -c release --product seq2seq >&2
S=.build/release/seq2seq
peer=../shared/peers/torch_seq2seq.py
ours() {  # label, batch, flags...
  local label=$1 batch=$2; shift 2
  $S bench translate --attention general --kinds beam --batches "$batch" --threads "$THREADS" --format json "$@" \
    | sed -n 's/.*"sentences_per_s":\([0-9.]*\).*/\1/p' | awk -v l="$label" -v b="$batch" '{ printf "ours  %-22s batch %-3s %8.1f sentences/s\n", l, b, $1 }'
}
theirs() {  # label, batch, flags...
  local label=$1 batch=$2; shift 2
  "$PEER" "$peer" --config small --attention general --mode decode --decode-kinds beam --decode-batches "$batch" \
      --threads "$THREADS" "$@" | grep '^RESULT' \
    | sed -n 's/.*"sent_per_s": *\([0-9.]*\).*/\1/p' | awk -v l="$label" -v b="$batch" '{ printf "peer  %-22s batch %-3s %8.1f sentences/s\n", l, b, $1 }'
}
echo "# $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p'), $(grep -o 'avx512_vnni\|avx512f\|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  echo "# round $round"
  for batch in 1 64; do
    s=$S1; [ "$batch" = 64 ] && s=$S64
    ours float32 "$batch" --precision float32
    theirs float32 "$batch"
    ours int8 "$batch" --precision int8
    theirs "int8 (quantize_dynamic)" "$batch" --quantize int8
    ours "int8+shortlist $s" "$batch" --precision int8 --shortlist-size "$s"
    ours "float32+shortlist $s" "$batch" --precision float32 --shortlist-size "$s"
  done
done
