#!/usr/bin/env bash
# Issue 7's ablations with the Multi30k recipe (scripts/multi30k.sh), De→En by default, each run
# trained for the same number of epochs (EPOCHS, default 3) so that only one thing changes:
#   base        the recipe as it is (reversed source, clipping at 5)
#   noreverse   --no-reverse-source
#   noclip      --clip 0
#   gru, rnn-tanh, irnn, bilstm   the cells and a bidirectional LSTM encoder (issue 13), same budget
# then beam 5 vs greedy on every finished model given in MODELS (default: the full-length runs).
# Prints a Markdown table: best validation perplexity per epoch, test2016 BLEU (lowercased).
#   bash scripts/multi30k-ablations.sh            # de en, 3 epochs per variant
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-de}; tgt=${2:-en}
DATA=${DATA:-../shared/corpora/multi30k}
export EPOCHS=${EPOCHS:-3}
S=.build/release/seq2seq
run() {  # name, extra train flags
  local name="multi30k-$src-$tgt-ablation-$1"
  if [ ! -f "models/$name/test2016.hyp.$tgt" ]; then
    NAME="$name" EXTRA="$2" bash scripts/multi30k.sh "$src" "$tgt" > "models/$name.log" 2>&1 \
      || { echo "ablation $1 failed, see models/$name.log" >&2; exit 1; }
  fi
}
mkdir -p models
run base ""
run noreverse "--no-reverse-source"
run noclip "--clip 0"
if [ -z "${SKIP_CELLS:-}" ]; then
  run gru "--cell gru"
  run rnn-tanh "--cell rnn-tanh"
  run irnn "--cell irnn"
  run bilstm "--bidirectional"
fi
bleu() { $S bleu "$1" -i "$2" --lowercase --score-only --width 2; }  # reference, hypotheses
valid() {  # the validation perplexities of a run, one per epoch
  grep '"event":"valid"' "models/$1/log.jsonl" | grep -o '"valid_ppl":[0-9.e+-]*' | cut -d: -f2 \
    | awk '{ printf "%s%.2f", (NR > 1 ? ", " : ""), $1 }'
}
echo "| $src→$tgt, $EPOCHS epochs | validation perplexity per epoch | test2016 BLEU (lowercased, beam 5) |"
echo "|---|---|---|"
variants="base noreverse noclip"; [ -z "${SKIP_CELLS:-}" ] && variants="$variants gru rnn-tanh irnn bilstm"
for v in $variants; do
  name="multi30k-$src-$tgt-ablation-$v"
  echo "| $v | $(valid "$name") | $(bleu "$DATA/test2016.$tgt" "models/$name/test2016.hyp.$tgt") |"
done
echo
echo "| model | beam 5 | greedy |"
echo "|---|---|---|"
for name in ${MODELS:-multi30k-de-en multi30k-en-de}; do
  [ -f "models/$name/best.safetensors" ] || continue
  s=${name#multi30k-}; s=${s%%-*}; t=${name#multi30k-$s-}; t=${t%%-*}
  $S translate --model "models/$name" --beam 1 --input "$DATA/test2016.$s" > "models/$name/test2016.greedy.$t"
  [ -f "models/$name/test2016.hyp.$t" ] || $S translate --model "models/$name" --beam 5 --input "$DATA/test2016.$s" > "models/$name/test2016.hyp.$t"
  echo "| $name | $(bleu "$DATA/test2016.$t" "models/$name/test2016.hyp.$t") | $(bleu "$DATA/test2016.$t" "models/$name/test2016.greedy.$t") |"
done
