#!/usr/bin/env bash
# Load test of `seq2seq serve` on loopback with wrk: one sentence per POST /translate, at 1, 8 and
# 64 connections (throughput, p50/p99 latency, failed requests), then a soak at 8 connections with
# the server's RSS sampled every 10 s, then `translate`'s own throughput on the same sentences.
# Needs a release build and wrk (`bash scripts/setup.sh bench-serve`); not part of scripts/test.sh.
#
#   bash scripts/bench-serve.sh --model DIR --sentences FILE [--seconds 20] [--soak-seconds 300]
#                               [--threads 1] [--batch-size 32] [--max-wait-ms 5] [--beam 5]
set -euo pipefail
cd "$(dirname "$0")/.."
model="" sentences="" seconds=20 soak=300 threads=1 batch=32 wait_ms=5 beam=5
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --sentences) sentences="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --soak-seconds) soak="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --batch-size) batch="$2"; shift 2 ;;
    --max-wait-ms) wait_ms="$2"; shift 2 ;;
    --beam) beam="$2"; shift 2 ;;
    *) echo "bench-serve: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$model" ] && [ -n "$sentences" ] || { echo "bench-serve: --model DIR and --sentences FILE are required" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench-serve: wrk is missing (bash scripts/setup.sh bench-serve)" >&2; exit 1; }
S=${SEQ2SEQ:-.build/release/seq2seq}
[ -x "$S" ] || { echo "bench-serve: build first: swift build -c release --product seq2seq" >&2; exit 1; }

work=$(mktemp -d)
# One JSON body per line; the Lua script sends them round-robin, one per request.
python3 - "$sentences" "$work/bodies.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], encoding="utf-8") as f, open(sys.argv[2], "w", encoding="utf-8") as out:
    for line in f:
        line = line.rstrip("\n")
        if line.strip():
            out.write(json.dumps({"text": [line]}, ensure_ascii=False) + "\n")
PY
cat >"$work/post.lua" <<LUA
local bodies = {}
for line in io.lines("$work/bodies.jsonl") do bodies[#bodies + 1] = line end
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function setup(thread) n = n + 1; thread:set("offset", n * 7919) end
function init(args) index = offset or 0 end
function request()
  index = index + 1
  return wrk.format(nil, "/translate", nil, bodies[(index % #bodies) + 1])
end
LUA

"$S" serve --model "$model" --port 0 --threads "$threads" --batch-size "$batch" --max-wait-ms "$wait_ms" \
  --beam "$beam" --queue-size 4096 2>"$work/serve.err" &
server=$!
cleanup() { kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 300); do grep -q "serving" "$work/serve.err" && break; kill -0 "$server" 2>/dev/null || break; sleep 0.2; done
port=$(grep -o '127\.0\.0\.1:[0-9]*' "$work/serve.err" | head -1 | cut -d: -f2)
[ -n "$port" ] || { echo "bench-serve: the server did not start: $(cat "$work/serve.err")" >&2; exit 1; }
url="http://127.0.0.1:$port"

echo "bench-serve: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $S"
echo "bench-serve: model $model, beam $beam, batch $batch, wait ${wait_ms} ms, BLAS threads $threads; $(wc -l <"$work/bodies.jsonl") sentences"
summarize() {  # wrk output -> one line: requests/s, p50, p99, failures
  python3 -c '
import re, sys
t = sys.stdin.read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)
p50 = re.search(r"\s50%\s+(\S+)", t).group(1)
p99 = re.search(r"\s99%\s+(\S+)", t).group(1)
total = re.search(r"(\d+) requests in", t).group(1)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
failed = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
print(f"{rps} req/s  p50 {p50}  p99 {p99}  requests {total}  failed {failed}")'
}
curl -sf -X POST -H 'Content-Type: application/json' -d '{"text": ["warm up"]}' "$url/translate" >/dev/null
for c in 1 8 64; do
  t=$(( c < 2 ? 1 : 2 ))
  printf 'bench-serve: %2d connections, %ss: ' "$c" "$seconds"
  wrk -t"$t" -c"$c" -d"${seconds}s" --timeout 30s --latency -s "$work/post.lua" "$url" | summarize
done

if [ "$soak" -gt 0 ]; then
  echo "bench-serve: soak, 8 connections, ${soak}s; RSS (MiB) every 10 s:"
  wrk -t2 -c8 -d"${soak}s" --timeout 30s --latency -s "$work/post.lua" "$url" >"$work/soak.txt" &
  load=$!
  samples=()
  while kill -0 "$load" 2>/dev/null; do
    samples+=("$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$server/status")")
    sleep 10
  done
  wait "$load"
  echo "bench-serve: RSS ${samples[*]}"
  printf 'bench-serve: soak: '; summarize <"$work/soak.txt"
fi
grep -E '^seq2seq_(sentences_total|batch_sentences_(sum|count)) ' <(curl -sf "$url/metrics") | tr '\n' ' '; echo

grep -v '^[[:space:]]*$' "$sentences" >"$work/source.txt"
for b in "$batch" 64; do
  start=$(date +%s.%N)
  "$S" translate --model "$model" --threads "$threads" --beam "$beam" --batch-size "$b" <"$work/source.txt" >/dev/null
  end=$(date +%s.%N)
  python3 -c "import sys; n, s, b = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]; print(f'bench-serve: translate --batch-size {b}: {n} sentences in {s:.1f} s = {n / s:.1f} sentences/s (model loading included)')" \
    "$(wc -l <"$work/source.txt")" "$(echo "$end - $start" | bc)" "$b"
done
