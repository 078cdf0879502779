#!/usr/bin/env bash
# The Multi30k recipe (issue 7): vocabularies, shards, training, beam-5 translation of test2016, BLEU.
#   bash scripts/multi30k.sh de en            # De→En into models/multi30k-de-en
#   bash scripts/multi30k.sh en de            # En→De into models/multi30k-en-de
# Environment: DATA (default ../shared/corpora/multi30k), VALID and TEST (the file stems of the
# validation and test splits in DATA, default val and test2016; Tatoeba: valid and test), EPOCHS, HIDDEN, EMBEDDING, LAYERS, DROPOUT,
# BATCH, LR, SEED, THREADS, MINUTES (stop training after this much training time), EXTRA (more train flags),
# LOWERCASE (default 1; 0 keeps case, for cased output and cased BLEU, e.g. German nouns),
# VOCAB_SOURCE and VOCAB_TARGET (vocabularies built elsewhere, e.g. of BPE pieces by
# scripts/multi30k-subword.sh; default: word vocabularies built here).
# Training and checkpoint choice use train and VALID only; TEST is translated once, at the end.
# Re-running resumes an interrupted training run.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-de}; tgt=${2:-en}
DATA=${DATA:-../shared/corpora/multi30k}; VALID=${VALID:-val}; TEST=${TEST:-test2016}
EPOCHS=${EPOCHS:-20}; HIDDEN=${HIDDEN:-512}; EMBEDDING=${EMBEDDING:-256}; LAYERS=${LAYERS:-2}
DROPOUT=${DROPOUT:-0.3}; BATCH=${BATCH:-64}; LR=${LR:-0.001}; SEED=${SEED:-1}; THREADS=${THREADS:-2}
casing=(--lowercase); [ "${LOWERCASE:-1}" = 0 ] && casing=()
name=${NAME:-multi30k-$src-$tgt}
bash scripts/setup.sh
swift build -c release --product seq2seq >&2
S=.build/release/seq2seq
mkdir -p vocab corpora models
if [ ! -f "models/$name/last.safetensors" ]; then
  if [ -z "${VOCAB_SOURCE:-}" ]; then
    # Word-level vocabularies (min count 2), lowercased unless LOWERCASE=0: the target metric is case-insensitive BLEU.
    $S vocab --input "$DATA/train.$src" --output "vocab/$name.$src.vocab" --min-count 2 "${casing[@]}" --lang "$src"
    $S vocab --input "$DATA/train.$tgt" --output "vocab/$name.$tgt.vocab" --min-count 2 "${casing[@]}" --lang "$tgt"
  fi
  # --overwrite: a re-run after a start that never reached a checkpoint rebuilds the corpus.
  $S shard --source "$DATA/train.$src" --target "$DATA/train.$tgt" --output "corpora/$name" \
      --source-lang "$src" --target-lang "$tgt" --overwrite
  resume=()
else
  resume=(--resume)
fi
$S train --shards "corpora/$name" --source-vocab "${VOCAB_SOURCE:-vocab/$name.$src.vocab}" \
    --target-vocab "${VOCAB_TARGET:-vocab/$name.$tgt.vocab}" \
    --valid-source "$DATA/$VALID.$src" --valid-target "$DATA/$VALID.$tgt" --output "models/$name" \
    --layers "$LAYERS" --hidden "$HIDDEN" --embedding "$EMBEDDING" --dropout "$DROPOUT" --batch-size "$BATCH" \
    --optimizer adam --lr "$LR" --epochs "$EPOCHS" --seed "$SEED" --threads "$THREADS" \
    ${MINUTES:+--max-minutes "$MINUTES"} ${EXTRA:-} "${resume[@]}"
$S translate --model "models/$name" --beam 5 --input "$DATA/$TEST.$src" > "models/$name/$TEST.hyp.$tgt"
echo "== $name $TEST, beam 5, lowercased BLEU (the published convention), then cased:"
$S bleu "$DATA/$TEST.$tgt" -i "models/$name/$TEST.hyp.$tgt" --lowercase --width 2
$S bleu "$DATA/$TEST.$tgt" -i "models/$name/$TEST.hyp.$tgt" --width 2
