#!/usr/bin/env bash
# Checks that the page `seq2seq serve` shows at / translates a sentence in a real browser: starts
# the server on a free loopback port, opens /?q=SENTENCE in headless Chromium, lets its script run,
# and compares the text the page shows with what POST /translate answers. Optionally writes a
# screenshot. Not part of scripts/test.sh (it needs Chromium: `bash scripts/setup.sh page`).
#
#   bash scripts/check-page.sh --model DIR [--sentence TEXT] [--screenshot FILE.png]
#
# SEQ2SEQ=path/to/seq2seq uses that binary instead of building the debug one.
set -euo pipefail
cd "$(dirname "$0")/.."
model="" sentence="Ein Mann fährt Fahrrad." screenshot=""
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --sentence) sentence="$2"; shift 2 ;;
    --screenshot) screenshot="$2"; shift 2 ;;
    *) echo "check-page: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$model" ] || { echo "check-page: --model DIR is required" >&2; exit 2; }
command -v chromium >/dev/null || { echo "check-page: chromium is missing (bash scripts/setup.sh page)" >&2; exit 1; }
if [ -z "${SEQ2SEQ:-}" ]; then swift build --product seq2seq >/dev/null; SEQ2SEQ=.build/debug/seq2seq; fi

work=$(mktemp -d)
"$SEQ2SEQ" serve --model "$model" --port 0 2>"$work/serve.err" &
server=$!
cleanup() { kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 300); do grep -q "serving" "$work/serve.err" && break; kill -0 "$server" 2>/dev/null || break; sleep 0.2; done
port=$(grep -o '127\.0\.0\.1:[0-9]*' "$work/serve.err" | head -1 | cut -d: -f2)
[ -n "$port" ] || { echo "check-page: the server did not start: $(cat "$work/serve.err")" >&2; exit 1; }

query=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$sentence")
url="http://127.0.0.1:$port/?q=$query"
browser=(chromium --headless --disable-gpu --no-first-run --user-data-dir="$work/profile" --virtual-time-budget=15000)
[ "$(id -u)" -eq 0 ] && browser+=(--no-sandbox)

expected=$(python3 -c 'import json, sys; print(json.dumps({"text": [sys.argv[1]]}))' "$sentence" |
  curl -sf -X POST -H 'Content-Type: application/json' --data-binary @- "http://127.0.0.1:$port/translate" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["translations"][0])')
"${browser[@]}" --dump-dom "$url" 2>/dev/null >"$work/dom.html"
shown=$(python3 - "$work/dom.html" <<'PY'
import html, re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<div id="output"[^>]*>(.*?)</div>', dom, re.S)
print(html.unescape(m.group(1)) if m else "")
PY
)
echo "check-page: source:   $sentence"
echo "check-page: page:     $shown"
echo "check-page: expected: $expected"
if [ -n "$screenshot" ]; then
  "${browser[@]}" --window-size=820,420 --hide-scrollbars --screenshot="$screenshot" "$url" 2>/dev/null >/dev/null
  echo "check-page: screenshot $screenshot ($(stat -c %s "$screenshot") bytes)"
fi
if [ -n "$shown" ] && [ "$shown" = "$expected" ]; then
  echo "check-page: OK, the page shows the translation"
else
  echo "check-page: FAILED, the page does not show the translation" >&2
  exit 1
fi
