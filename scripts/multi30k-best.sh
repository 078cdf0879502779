#!/usr/bin/env bash
# The best-quality Multi30k recipe (issue 31): K members trained independently (seeds 1..K), each
# a bidirectional 2×256 LSTM encoder with general attention and input feeding, then the ensemble of
# the members' best checkpoints, chosen and weighted on val only; test2016 is translated once, at
# the end, by the final configuration.
#   bash scripts/multi30k-best.sh de en          # De→En into models/best-de-en
#   bash scripts/multi30k-best.sh en de          # En→De into models/best-en-de
# Environment: MEMBERS (default 4), EPOCHS (default 12), THREADS (per member, default 1),
# PARALLEL (members trained at once, default 2: on 2 cores, two members with 1 thread each),
# EXTRA (more train flags for every member), STAGE (members | ensemble | all, default all).
# Re-running resumes: finished members are kept, an interrupted one resumes from its checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-de}; tgt=${2:-en}
DATA=${DATA:-../shared/corpora/multi30k}
MEMBERS=${MEMBERS:-4}; EPOCHS=${EPOCHS:-12}; THREADS=${THREADS:-1}; PARALLEL=${PARALLEL:-2}
STAGE=${STAGE:-all}
root=models/best-$src-$tgt
bash scripts/setup.sh
swift build -c release --product seq2seq >&2
S=.build/release/seq2seq
mkdir -p "$root"
if [ ! -f "$root/$src.vocab" ]; then
  $S vocab --input "$DATA/train.$src" --output "$root/$src.vocab" --min-count 2 --lowercase --lang "$src"
  $S vocab --input "$DATA/train.$tgt" --output "$root/$tgt.vocab" --min-count 2 --lowercase --lang "$tgt"
fi
if [ ! -f "$root/shards/.done" ]; then
  $S shard --source "$DATA/train.$src" --target "$DATA/train.$tgt" --output "$root/shards" \
      --source-lang "$src" --target-lang "$tgt" --overwrite
  touch "$root/shards/.done"
fi

member() { # member N: trains (or resumes, or skips when finished) member N with seed N
  local n=$1 dir=$root/member-$1 resume=()
  [ -f "$dir/.done" ] && return 0
  [ -f "$dir/last.safetensors" ] && resume=(--resume)
  $S train --shards "$root/shards" --source-vocab "$root/$src.vocab" --target-vocab "$root/$tgt.vocab" \
      --valid-source "$DATA/val.$src" --valid-target "$DATA/val.$tgt" --output "$dir" \
      --layers 2 --hidden 256 --embedding 256 --dropout 0.3 --batch-size 64 --bidirectional \
      --attention general --optimizer adam --lr 0.001 --epochs "$EPOCHS" --seed "$n" --threads "$THREADS" \
      --label-smoothing 0.1 --lr-schedule plateau --valid-bleu --valid-bleu-lowercase --select-by bleu \
      ${EXTRA:-} "${resume[@]}" > "$dir.out" 2>&1
  touch "$dir/.done"
}

if [ "$STAGE" = members ] || [ "$STAGE" = all ]; then
  running=0
  for n in $(seq 1 "$MEMBERS"); do
    mkdir -p "$root"; member "$n" &
    running=$((running + 1))
    if [ "$running" -ge "$PARALLEL" ]; then wait -n; running=$((running - 1)); fi
  done
  wait
fi
