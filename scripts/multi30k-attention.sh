#!/usr/bin/env bash
# The attentional Multi30k recipe (issue 14): scripts/multi30k.sh with global attention and input
# feeding, into models/multi30k-attn-SRC-TGT.
#   bash scripts/multi30k-attention.sh de en      # De→En
#   bash scripts/multi30k-attention.sh en de      # En→De
# Environment as scripts/multi30k.sh (EPOCHS, HIDDEN, EMBEDDING, LAYERS, DROPOUT, BATCH, LR, SEED,
# THREADS, MINUTES, EXTRA, LOWERCASE), plus ATTENTION (default general). Defaults: 2×256 LSTM,
# embeddings 256, dropout 0.3, Adam 1e-3, at most 120 minutes of training; the checkpoint with the
# lowest validation perplexity is translated (beam 5) and scored on test2016.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-de}; tgt=${2:-en}
export NAME=${NAME:-multi30k-attn-$src-$tgt}
export HIDDEN=${HIDDEN:-256} EMBEDDING=${EMBEDDING:-256} LAYERS=${LAYERS:-2} DROPOUT=${DROPOUT:-0.3}
export EPOCHS=${EPOCHS:-30} MINUTES=${MINUTES:-120}
export EXTRA="--attention ${ATTENTION:-general} ${EXTRA:-}"
exec bash scripts/multi30k.sh "$src" "$tgt"
