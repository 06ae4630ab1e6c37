#!/usr/bin/env bash
# The test command: set up, build, run every test (unit, golden, e2e). Arguments go to ctest,
# e.g. `scripts/test.sh -L unit` or `scripts/test.sh -R Tokenizer`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The build's packages plus the tests' own (chromium renders the HTML report); idempotent.
"$root/scripts/setup.sh" --test
QB_SETUP_DONE=1 "$root/scripts/build.sh"
cd "${QB_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc)" "$@"
