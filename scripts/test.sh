#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs system packages if needed, then `swift test`,
# then the gradient checks in double precision (Tests/DoubleCheck: Basics, Kernels and Model built
# again from the same files with Scalar = Double), then the Seq2Seq library's DocC build (no warning
# allowed). Arguments go to the main suite's `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Our own code builds without a warning (dependencies' warnings are theirs): on a fresh clone every
# file is compiled, so the check below sees all of them.
mkdir -p .build
swift build --build-tests 2>&1 | tee .build/test-build.log
if grep -E "^$PWD/(Sources|Tests)/[^:]+:[0-9]+:[0-9]+: warning:" .build/test-build.log; then
  echo "test: the warnings above are in our code; fix them" >&2
  exit 1
fi
swift test --skip-build "$@"
swift build --package-path Tests/DoubleCheck --build-tests 2>&1 | tee .build/double-build.log
if grep -E "^$PWD/Tests/DoubleCheck/[^:]+:[0-9]+:[0-9]+: warning:" .build/double-build.log; then
  echo "test: the warnings above are in our code (double-precision build); fix them" >&2
  exit 1
fi
swift test --package-path Tests/DoubleCheck --skip-build
# The library's DocC reference builds without a warning (every symbol link resolves).
swift package --disable-sandbox generate-documentation --target Seq2Seq --warnings-as-errors > .build/docc.log 2>&1 \
  || { cat .build/docc.log >&2; echo "test: the Seq2Seq documentation has errors or warnings (above)" >&2; exit 1; }
