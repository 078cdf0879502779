#!/usr/bin/env bash
# The attentional Multi30k recipe on BPE subwords (issue 15): joint BPE codes learned on the
# lowercased, tokenized train split of both sides, vocabularies of pieces, then
# scripts/multi30k-attention.sh's training, translation of test2016 and BLEU, into
# models/multi30k-bpe-SRC-TGT (models/multi30k-bpe-dropout-SRC-TGT with BPE_DROPOUT).
#   bash scripts/multi30k-subword.sh en de                    # BPE, 10,000 joint merges
#   MERGES=8000 bash scripts/multi30k-subword.sh en de        # another merge count (choose on val)
#   BPE_DROPOUT=0.1 bash scripts/multi30k-subword.sh en de    # BPE-dropout while training
# Environment as scripts/multi30k-attention.sh (MINUTES, EPOCHS, THREADS, EXTRA, ATTENTION, ...), plus
# MERGES (default 10000) and BPE_DROPOUT (default none). Only train and VALID are read before the
# final translation of TEST. Another corpus with the same layout, e.g. Tatoeba:
#   DATA=../shared/corpora/tatoeba_fra_eng VALID=valid TEST=test bash scripts/multi30k-subword.sh fr en
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-en}; tgt=${2:-de}
DATA=${DATA:-../shared/corpora/multi30k}; MERGES=${MERGES:-10000}
bash scripts/setup.sh
swift build -c release --product seq2seq >&2
S=.build/release/seq2seq
tag=bpe${BPE_DROPOUT:+-dropout}
[ "$MERGES" != 10000 ] && tag=$tag-$MERGES
corpus=$(basename "$DATA")
export NAME=${NAME:-$corpus-$tag-$src-$tgt}
# Joint codes serve both directions of a language pair: named by the corpus and the sorted pair.
# Learned on the sorted pair's files in that order, so both directions get the same codes.
read -r first second < <(printf '%s\n' "$src" "$tgt" | sort | tr '\n' ' ')
codes=vocab/$corpus-$first-$second-joint-$MERGES.bpe
mkdir -p vocab
if [ ! -f "$codes" ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  $S tokenize --lang "$first" --lowercase --input "$DATA/train.$first" > "$tmp/train.$first"
  $S tokenize --lang "$second" --lowercase --input "$DATA/train.$second" > "$tmp/train.$second"
  $S bpe learn --input "$tmp/train.$first" "$tmp/train.$second" --merges "$MERGES" --output "$codes"
fi
if [ ! -f "vocab/$NAME.$tgt.vocab" ]; then
  $S vocab --input "$DATA/train.$src" --output "vocab/$NAME.$src.vocab" --lowercase --lang "$src" --bpe-codes "$codes"
  $S vocab --input "$DATA/train.$tgt" --output "vocab/$NAME.$tgt.vocab" --lowercase --lang "$tgt" --bpe-codes "$codes"
fi
# multi30k.sh builds word vocabularies only when the model folder is new; give it the piece vocabularies.
export VOCAB_SOURCE="vocab/$NAME.$src.vocab" VOCAB_TARGET="vocab/$NAME.$tgt.vocab"
export EXTRA="--bpe-codes $codes ${BPE_DROPOUT:+--bpe-dropout $BPE_DROPOUT} ${EXTRA:-}"
exec bash scripts/multi30k-attention.sh "$src" "$tgt"
