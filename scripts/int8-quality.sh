#!/usr/bin/env bash
# Issue 16's quality figures: a model folder's test2016 translations (beam 5, BATCH) in float32
# and int8, with and without its shortlist: lowercased BLEU of each, the change from float32 without
# shortlist, and the share of output lines that differ from it. Builds the shortlist from the
# model's training shards first when the folder has none (SHARDS must then name them).
#   SHARDS=corpora/multi30k-attn-de-en bash scripts/int8-quality.sh models/multi30k-attn-de-en de en
# Environment: DATA (default ../shared/corpora/multi30k), SET (default test2016), THREADS (default 2),
# BATCH (sentences decoded together, default 64; the shortlist is the union over a batch).
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1; src=${2:-de}; tgt=${3:-en}
DATA=${DATA:-../shared/corpora/multi30k}; SET=${SET:-test2016}; THREADS=${THREADS:-2}; BATCH=${BATCH:-64}
swift build -c release --product seq2seq >&2
S=.build/release/seq2seq
if [ ! -f "$model/shortlist.bin" ]; then
  $S shortlist --model "$model" --shards "${SHARDS:?the folder has no shortlist.bin: set SHARDS to its training shards}"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "| precision | shortlist | BLEU lc | Δ | lines changed | sentences/s |"
echo "|---|---|---|---|---|---|"
base=""
for precision in float32 int8; do
  for shortlist in --no-shortlist --shortlist; do
    hyp="$out/$precision$shortlist.$tgt"
    report=$($S evaluate --model "$model" --source "$DATA/$SET.$src" --reference "$DATA/$SET.$tgt" --beam 5 \
             --lowercase --threads "$THREADS" --batch-size "$BATCH" --precision "$precision" $shortlist --output "$hyp")
    bleu=$($S bleu "$DATA/$SET.$tgt" -i "$hyp" --lowercase --width 2 --score-only)
    speed=$(echo "$report" | sed -n 's/.*: \([0-9.]*\) sentences\/s.*/\1/p')
    [ -z "$base" ] && { base=$bleu; baseHyp=$hyp; }
    changed=$(paste -d '\t' "$baseHyp" "$hyp" | awk -F'\t' '$1 != $2 { n++ } END { printf "%d of %d (%.1f %%)", n, NR, 100 * n / NR }')
    delta=$(awk -v a="$bleu" -v b="$base" 'BEGIN { printf "%+.2f", a - b }')
    echo "| $precision | ${shortlist#--} | $bleu | $delta | $changed | $speed |"
  done
done
