#!/usr/bin/env bash
# The MPI measurement in docs/results/speed.md ("Data-parallel training over MPI"): on Multi30k De→En with the
# recipe's model, 1 rank × 2 BLAS threads against 2 ranks × 1 thread (the same 64-sentence update,
# and 64 sentences per rank), tokens/s and the gradient exchange per step from each run's log.jsonl;
# then `bench allreduce` on the small, Multi30k and medium gradient sizes.
#   bash scripts/mpi-benchmark.sh
#   RATES="1gbit 10gbit" bash scripts/mpi-benchmark.sh    (as root: also over network namespaces)
# Environment: DATA (default ../shared/corpora/multi30k), STEPS (default 40), HIDDEN (512),
# EMBEDDING (256), RATES (link rates for the namespace mode, `scripts/mpi-hosts.sh`: N ranks, each in
# its own namespace, TCP only through links shaped to the rate; empty: skipped), RANKS (the rank
# counts of the namespace mode, default "2 4"; each rank 1 thread, so 4 ranks share the 2 cores two
# to a core), BATCHES (sentences per rank per step in the namespace mode, default 32). Each
# namespace run is made with the exchange overlapped with the backward pass (the default) and with
# --no-overlap-exchange, and against a single process with the same batch and 1 thread (the step
# without any exchange): `added` is the step time beyond that one.
# Writes corpora/mpi-bench, vocab/mpi-bench.*, models/mpi-bench-*.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/corpora/multi30k}
STEPS=${STEPS:-40}; HIDDEN=${HIDDEN:-512}; EMBEDDING=${EMBEDDING:-256}
bash scripts/setup.sh
swift build -c release --product seq2seq >&2
S=.build/release/seq2seq
# Open MPI refuses to run as root unless told.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p vocab corpora models
if [ ! -f corpora/mpi-bench/manifest.json ]; then
  $S vocab --input "$DATA/train.de" --output vocab/mpi-bench.de.vocab --min-count 2 --lowercase --lang de
  $S vocab --input "$DATA/train.en" --output vocab/mpi-bench.en.vocab --min-count 2 --lowercase --lang en
  # 10 shards: enough for up to 10 data parts.
  $S shard --source "$DATA/train.de" --target "$DATA/train.en" --output corpora/mpi-bench --pairs-per-shard 2900 --overwrite
fi
common=(--shards corpora/mpi-bench --source-vocab vocab/mpi-bench.de.vocab --target-vocab vocab/mpi-bench.en.vocab
        --hidden "$HIDDEN" --embedding "$EMBEDDING" --dropout 0.3 --optimizer adam --max-steps "$STEPS"
        --log-every 10 --save-every 100000 --overwrite)
report() {
  python3 - "$@" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1] + "/log.jsonl") if '"train"' in l][1:]  # the first interval warms up
tps = [l["tokens_per_s"] for l in lines]
ar = [l["allreduce_ms"] for l in lines if l.get("allreduce_ms") is not None]
mb = [l["exchange_mb"] for l in lines if l.get("exchange_mb") is not None]
step = sorted(l["step_ms"] for l in lines if l.get("step_ms") is not None)
median = step[len(step) // 2] if step else None
base = float(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else None
print(f"{sys.argv[2]:48s} tok/s {min(tps):7.0f}-{max(tps):7.0f}"
      + (f"   step {median:6.1f} ms" if median else "")
      + (f" (added {median - base:6.1f} ms)" if median and base else "")
      + (f"   exchange wait/step {min(ar):6.1f}-{max(ar):6.1f} ms" if ar else "")
      + (f", {min(mb):5.1f}-{max(mb):5.1f} MB sent per rank" if mb else ""))
if len(sys.argv) > 4 and median: open(sys.argv[4], "w").write(f"{median}\n")
PY
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
$S train "${common[@]}" --batch-size 64 --threads 2 --output models/mpi-bench-1x2 2>/dev/null
report models/mpi-bench-1x2 "1 rank x 2 threads, batch 64"
mpirun --quiet -np 2 --bind-to none $S train "${common[@]}" --batch-size 32 --threads 1 --output models/mpi-bench-2x1-32 2>/dev/null
report models/mpi-bench-2x1-32 "2 ranks x 1 thread, batch 32 each (64/update)"
mpirun --quiet -np 2 --bind-to none $S train "${common[@]}" --batch-size 64 --threads 1 --output models/mpi-bench-2x1-64 2>/dev/null
report models/mpi-bench-2x1-64 "2 ranks x 1 thread, batch 64 each (128/update)"
if [ -n "${RATES:-}" ]; then
  trap 'bash scripts/mpi-hosts.sh down' EXIT
  for batch in ${BATCHES:-32}; do
    # The step without any exchange: one process, the same batch, 1 thread.
    $S train "${common[@]}" --batch-size "$batch" --threads 1 --output "models/mpi-bench-base-$batch" 2>/dev/null
    report "models/mpi-bench-base-$batch" "1 process x 1 thread, batch $batch (no exchange)" "" /tmp/mpi-bench-base
    base=$(cat /tmp/mpi-bench-base)
    for n in ${RANKS:-2 4}; do
      for rate in $RATES; do
        hosts=$(bash scripts/mpi-hosts.sh up "$n" "$rate")
        for mode in overlapped after-backward; do
          flags=(); [ "$mode" = after-backward ] && flags=(--no-overlap-exchange)
          out="models/mpi-bench-ns-$n-$rate-$batch-$mode"
          # shellcheck disable=SC2046
          mpirun --quiet $(bash scripts/mpi-hosts.sh mpirun-options) --host "$hosts" -np "$n" --bind-to none \
            $S train "${common[@]}" --batch-size "$batch" --threads 1 "${flags[@]}" --output "$out" 2>/dev/null
          report "$out" "$n namespaces, $rate, batch $batch each, $mode" "$base"
        done
        bash scripts/mpi-hosts.sh down
      done
    done
  done
fi
for preset in small multi30k medium; do
  mpirun --quiet -np 2 --bind-to none $S bench allreduce --preset "$preset" --repeat 15
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
