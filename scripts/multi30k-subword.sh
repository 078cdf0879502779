#!/usr/bin/env bash
# The attentional Multi30k recipe on BPE subwords (issue 15): joint BPE codes learned on the
# lowercased, tokenized train split of both sides, vocabularies of pieces, then
# scripts/multi30k-attention.sh's training, translation of test2016 and BLEU, into
# models/multi30k-bpe-SRC-TGT (models/multi30k-bpe-dropout-SRC-TGT with BPE_DROPOUT).
#   bash scripts/multi30k-subword.sh en de                    # BPE, 10,000 joint merges
#   MERGES=8000 bash scripts/multi30k-subword.sh en de        # another merge count (choose on val)
#   BPE_DROPOUT=0.1 bash scripts/multi30k-subword.sh en de    # BPE-dropout while training
# Environment as scripts/multi30k-attention.sh (MINUTES, EPOCHS, THREADS, EXTRA, ATTENTION, ...), plus
# MERGES (default 10000) and BPE_DROPOUT (default none). Only train and val are read before the
# final translation of test2016.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-en}; tgt=${2:-de}
DATA=${DATA:-../shared/corpora/multi30k}; MERGES=${MERGES:-10000}
bash scripts/setup.sh
swift build -c release --product seq2seq >&2
S=.build/release/seq2seq
tag=bpe${BPE_DROPOUT:+-dropout}
[ "$MERGES" != 10000 ] && tag=$tag-$MERGES
export NAME=${NAME:-multi30k-$tag-$src-$tgt}
codes=vocab/multi30k-joint-$MERGES.bpe
mkdir -p vocab
if [ ! -f "$codes" ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  $S tokenize --lang "$src" --lowercase --input "$DATA/train.$src" > "$tmp/train.$src"
  $S tokenize --lang "$tgt" --lowercase --input "$DATA/train.$tgt" > "$tmp/train.$tgt"
  $S bpe learn --input "$tmp/train.$src" "$tmp/train.$tgt" --merges "$MERGES" --output "$codes"
fi
if [ ! -f "vocab/$NAME.$tgt.vocab" ]; then
  $S vocab --input "$DATA/train.$src" --output "vocab/$NAME.$src.vocab" --lowercase --lang "$src" --bpe-codes "$codes"
  $S vocab --input "$DATA/train.$tgt" --output "vocab/$NAME.$tgt.vocab" --lowercase --lang "$tgt" --bpe-codes "$codes"
fi
# multi30k.sh builds word vocabularies only when the model folder is new; give it the piece vocabularies.
export VOCAB_SOURCE="vocab/$NAME.$src.vocab" VOCAB_TARGET="vocab/$NAME.$tgt.vocab"
export EXTRA="--bpe-codes $codes ${BPE_DROPOUT:+--bpe-dropout $BPE_DROPOUT} ${EXTRA:-}"
exec bash scripts/multi30k-attention.sh "$src" "$tgt"
