#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs system packages if needed, then `swift test`,
# then the gradient checks in double precision (Tests/DoubleCheck: Basics, Kernels and Model built
# again from the same files with Scalar = Double). Arguments go to the main suite's `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
swift test --skip-build "$@"
swift test --package-path Tests/DoubleCheck
