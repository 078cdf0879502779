#!/usr/bin/env bash
# The best-quality Multi30k recipe (issue 31): K members trained independently (seeds 1..K), each
# a bidirectional 2×256 LSTM encoder with general attention and input feeding, then the ensemble of
# the members' best checkpoints, chosen and weighted on val only; test2016 is translated once, at
# the end, by the final configuration.
#   bash scripts/multi30k-best.sh de en          # De→En into models/best-de-en
#   bash scripts/multi30k-best.sh en de          # En→De into models/best-en-de
# Environment: MEMBERS (left-to-right members, default 4), R2L_MEMBERS (right-to-left members for
# n-best rescoring, default 2), EPOCHS (default 12), THREADS (per member, default 1),
# PARALLEL (members trained at once, default 2: on 2 cores, two members with 1 thread each),
# EXTRA (more train flags for every member), STAGE (members | ensemble | all, default all),
# ATTENTION (default general), MERGES (joint BPE merges learned on train; default: word
# vocabularies, min count 2), BPE_DROPOUT (with MERGES), AVERAGE (each member is the mean of its
# last AVERAGE checkpoints, `seq2seq average`; default 0: its best checkpoint by greedy val BLEU),
# LP (beam search length penalty, default 0.6), ROOT (the folder, default models/best-SRC-TGT),
# ABLATIONS (1: also train the ablation rows, seed 1:
# tied-1 with --tie-embeddings decoder, ln-1 with --layer-norm; scored on val and test2016 beside
# member-1).
# Re-running resumes: finished members are kept, an interrupted one resumes from its checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-de}; tgt=${2:-en}
DATA=${DATA:-../shared/corpora/multi30k}
MEMBERS=${MEMBERS:-4}; R2L_MEMBERS=${R2L_MEMBERS:-2}; EPOCHS=${EPOCHS:-12}; THREADS=${THREADS:-1}; PARALLEL=${PARALLEL:-2}
STAGE=${STAGE:-all}; ATTENTION=${ATTENTION:-general}; AVERAGE=${AVERAGE:-0}; LP=${LP:-0.6}
root=${ROOT:-models/best-$src-$tgt}
keep=(); [ "$AVERAGE" -gt 0 ] && keep=(--keep-checkpoints "$AVERAGE")
bash scripts/setup.sh
swift build -c release --product seq2seq >&2
S=.build/release/seq2seq
mkdir -p "$root"
subword=()
if [ -n "${MERGES:-}" ]; then
  codes=$root/joint-$MERGES.bpe
  if [ ! -f "$codes" ]; then
    tmp=$(mktemp -d)
    $S tokenize --lang "$src" --lowercase --input "$DATA/train.$src" > "$tmp/train.$src"
    $S tokenize --lang "$tgt" --lowercase --input "$DATA/train.$tgt" > "$tmp/train.$tgt"
    $S bpe learn --input "$tmp/train.$src" "$tmp/train.$tgt" --merges "$MERGES" --output "$codes.tmp"
    mv "$codes.tmp" "$codes"; rm -rf "$tmp"
  fi
  subword=(--bpe-codes "$codes")
  [ -n "${BPE_DROPOUT:-}" ] && subword+=(--bpe-dropout "$BPE_DROPOUT")
fi
if [ ! -f "$root/$tgt.vocab" ]; then
  if [ -n "${MERGES:-}" ]; then
    $S vocab --input "$DATA/train.$src" --output "$root/$src.vocab" --lowercase --lang "$src" --bpe-codes "$codes"
    $S vocab --input "$DATA/train.$tgt" --output "$root/$tgt.vocab" --lowercase --lang "$tgt" --bpe-codes "$codes"
  else
    $S vocab --input "$DATA/train.$src" --output "$root/$src.vocab" --min-count 2 --lowercase --lang "$src"
    $S vocab --input "$DATA/train.$tgt" --output "$root/$tgt.vocab" --min-count 2 --lowercase --lang "$tgt"
  fi
fi
if [ ! -f "$root/shards/.done" ]; then
  $S shard --source "$DATA/train.$src" --target "$DATA/train.$tgt" --output "$root/shards" \
      --source-lang "$src" --target-lang "$tgt" --overwrite
  touch "$root/shards/.done"
fi

member() { # member NAME SEED [FLAGS...]: trains (or resumes, or skips when finished) one member
  local dir=$root/$1 n=$2 resume=()
  shift 2
  [ -f "$dir/.done" ] && return 0
  [ -f "$dir/last.safetensors" ] && resume=(--resume)
  $S train --shards "$root/shards" --source-vocab "$root/$src.vocab" --target-vocab "$root/$tgt.vocab" \
      --valid-source "$DATA/val.$src" --valid-target "$DATA/val.$tgt" --output "$dir" \
      --layers 2 --hidden 256 --embedding 256 --dropout 0.3 --batch-size 64 --bidirectional \
      --attention "$ATTENTION" --optimizer adam --lr 0.001 --epochs "$EPOCHS" --seed "$n" --threads "$THREADS" \
      --label-smoothing 0.1 --lr-schedule plateau --valid-bleu --valid-bleu-lowercase --select-by bleu \
      "${keep[@]}" "${subword[@]}" ${EXTRA:-} "$@" "${resume[@]}" > "$dir.out" 2>&1
  if [ "$AVERAGE" -gt 0 ]; then rm -rf "$dir-avg"; $S average --model "$dir" --last "$AVERAGE" --output "$dir-avg" >> "$dir.out" 2>&1; fi
  touch "$dir/.done"
}

if [ "$STAGE" = members ] || [ "$STAGE" = all ]; then
  todo=()
  for n in $(seq 1 "$MEMBERS"); do todo+=("member-$n $n"); done
  for n in $(seq 1 "$R2L_MEMBERS"); do todo+=("r2l-$n $((100 + n)) --target-order right-to-left"); done
  if [ "${ABLATIONS:-0}" = 1 ]; then todo+=("tied-1 1 --tie-embeddings decoder" "ln-1 1 --layer-norm"); fi
  # At most PARALLEL at once. A member that fails is reported while the others go on (a re-run
  # resumes it from its checkpoint); the stage then fails.
  pids=() failed=0
  for job in "${todo[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$PARALLEL" ]; do sleep 5; done
    # shellcheck disable=SC2086
    member $job &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  if [ "$failed" = 1 ]; then echo "multi30k-best: a model failed to train (see $root/*.out); run again to resume" >&2; exit 1; fi
fi

if [ "$STAGE" = ensemble ] || [ "$STAGE" = all ]; then
  # Every member must be finished (another run of the members stage may still be training one).
  needed=(); for n in $(seq 1 "$MEMBERS"); do needed+=("member-$n"); done
  for n in $(seq 1 "$R2L_MEMBERS"); do needed+=("r2l-$n"); done
  [ "${ABLATIONS:-0}" = 1 ] && needed+=(tied-1 ln-1)
  for m in "${needed[@]}"; do
    until [ -f "$root/$m/.done" ]; do echo "waiting for $m to finish training" >&2; sleep 60; done
  done
  # Every choice on val; each configuration's val BLEU goes to results.tsv.
  results=$root/results.tsv
  : > "$results"
  score() { # score SPLIT NAME MODEL-FLAGS...: beam-5 lowercased BLEU (2 decimals) of a configuration
    local split=$1 name=$2; shift 2
    $S evaluate --source "$DATA/$split.$src" --reference "$DATA/$split.$tgt" --beam 5 --length-penalty "$LP" --threads "${EVAL_THREADS:-2}" \
        --output "$root/$split.$name.hyp" "$@" > /dev/null
    local lc cased
    lc=$($S bleu "$DATA/$split.$tgt" -i "$root/$split.$name.hyp" --lowercase --width 2 --score-only)
    cased=$($S bleu "$DATA/$split.$tgt" -i "$root/$split.$name.hyp" --width 2 --score-only)
    printf '%s\t%s\t%s\t%s\n' "$split" "$name" "$lc" "$cased" | tee -a "$results" >&2
    echo "$lc"
  }
  better() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }  # a > b, numerically
  suffix=; [ "$AVERAGE" -gt 0 ] && suffix=-avg
  r2l=(); for n in $(seq 1 "$R2L_MEMBERS"); do r2l+=(--rescore-with "$root/r2l-$n$suffix"); done
  # Each model alone on val; the ensemble of the best K by val BLEU, K = 2 … all, the K chosen on
  # val (a member whose attention learned late can lower the mean).
  ranked=()
  for n in $(seq 1 "$MEMBERS"); do
    b=$(score val "member-$n" --model "$root/member-$n$suffix")
    ranked+=("$b member-$n")
  done
  for n in $(seq 1 "$R2L_MEMBERS"); do score val "r2l-$n" --model "$root/r2l-$n$suffix" > /dev/null; done
  # The ablation models (one change each on member 1) are left-to-right models too: candidates.
  ablations=(); [ "${ABLATIONS:-0}" = 1 ] && ablations=(tied-1 ln-1)
  for a in "${ablations[@]}"; do ranked+=("$(score val "$a" --model "$root/$a$suffix") $a"); done
  mapfile -t order < <(printf '%s\n' "${ranked[@]}" | sort -k1,1gr -k2,2 | awk '{ print $2 }')
  best_single=${order[0]}
  best_single_bleu=$(printf '%s\n' "${ranked[@]}" | awk -v m="$best_single" '$2 == m { print $1 }')
  l2r=() ensemble_bleu=0 ensemble_name=
  for k in $(seq 2 "${#order[@]}"); do
    models=(); for m in "${order[@]:0:$k}"; do models+=(--model "$root/$m$suffix"); done
    b=$(score val "ensemble-top$k" "${models[@]}")
    if better "$b" "$ensemble_bleu"; then ensemble_bleu=$b ensemble_name=ensemble-top$k l2r=("${models[@]}"); fi
  done
  best_weight=0 best_bleu=0
  if [ "$R2L_MEMBERS" -ge 1 ]; then
    for w in 0.1 0.2 0.3 0.4 0.5 0.6 0.7; do
      b=$(score val "$ensemble_name+r2l-$w" "${l2r[@]}" "${r2l[@]}" --rescore-weight "$w")
      if better "$b" "$best_bleu"; then best_weight=$w best_bleu=$b; fi
    done
  fi
  final=$ensemble_name
  if [ "$best_weight" != 0 ] && better "$best_bleu" "$ensemble_bleu"; then final="$ensemble_name+r2l-$best_weight"; fi
  echo "chosen on val: best single $best_single ($best_single_bleu); rescoring weight $best_weight ($best_bleu," \
       "$ensemble_name alone $ensemble_bleu; members by val: ${order[*]}); final configuration $final" >&2
  # test2016, once per final configuration.
  echo "== test2016, beam 5: lowercased and cased BLEU" >&2
  score test2016 "$best_single" --model "$root/$best_single$suffix" > /dev/null
  # The ablation rows: one change each on member-1 (same seed).
  if [ "${#ablations[@]}" -gt 0 ]; then
    if [ "$best_single" != member-1 ]; then score test2016 member-1 --model "$root/member-1$suffix" > /dev/null; fi
    for a in "${ablations[@]}"; do
      if [ "$a" != "$best_single" ]; then score test2016 "$a" --model "$root/$a$suffix" > /dev/null; fi
    done
  fi
  score test2016 "$ensemble_name" "${l2r[@]}" > /dev/null
  # The ensemble-size rows: the best 2 and all members, when not the one chosen.
  for k in 2 "${#order[@]}"; do
    if [ "ensemble-top$k" != "$ensemble_name" ]; then
      models=(); for m in "${order[@]:0:$k}"; do models+=(--model "$root/$m$suffix"); done
      score test2016 "ensemble-top$k" "${models[@]}" > /dev/null
    fi
  done
  # Rescoring on (its best λ on val) beside off, whichever was chosen (the ablation's two rows).
  if [ "$R2L_MEMBERS" -ge 1 ] && [ "$best_weight" != 0 ]; then
    score test2016 "$ensemble_name+r2l-$best_weight" "${l2r[@]}" "${r2l[@]}" --rescore-weight "$best_weight" > /dev/null
  fi
fi
