#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs system packages if needed, then `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
swift test --skip-build "$@"
