#!/usr/bin/env bash
# The main job on the built-in default: installs system packages if needed, builds a release
# binary, and runs `seq2seq demo` (generate a corpus, shard it, build vocabularies, train,
# translate held-out examples, score BLEU). Extra arguments go to `seq2seq demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product seq2seq
exec .build/release/seq2seq demo "$@"
