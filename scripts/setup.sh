#!/usr/bin/env bash
# Installs the system libraries seq2seq links against, if any is missing. Idempotent.
# As root it runs apt-get; otherwise it prints the exact command to run and exits non-zero.
# `setup.sh page` also installs Chromium (scripts/check-page.sh only); `setup.sh bench-serve` also
# installs wrk and curl (scripts/bench-serve.sh only). The test suite needs neither.
set -euo pipefail
needed=(libicu-dev libzstd-dev zlib1g-dev libopenblas-dev libdnnl-dev libsentencepiece-dev pkg-config libopenmpi-dev openmpi-bin
        gcc python3 python3-pip python3-setuptools)  # the tests build the C example and pip-install and run the Python module
case "${1:-}" in
  "") ;;
  page) needed+=(chromium curl python3) ;;
  bench-serve) needed+=(wrk curl python3) ;;
  *) echo "setup: unknown argument $1 (none, page or bench-serve)" >&2; exit 2 ;;
esac
missing=()
for p in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -eq 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "setup: missing system packages: ${missing[*]}" >&2
  echo "setup: run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
