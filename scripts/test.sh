#!/usr/bin/env bash
# The test command: set up, build, run every test (unit, golden, e2e, slurm). Arguments go to
# ctest, e.g. `scripts/test.sh -L unit` or `scripts/test.sh -R Tokenizer`.
#
# The tests labelled `slurm` run qbuild's `executor: slurm` against a real Slurm: this script
# starts a single-node one here first (scripts/slurm/start.sh: Debian's slurm-wlm and munge, two
# fake GPUs; idempotent, a second run only checks it is up; needs root or sudo). Where it cannot
# start, those tests skip, and this script says so loudly. QB_SLURM=0 skips starting it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The build's packages plus the tests' own (chromium renders the HTML report; slurm-wlm and munge
# for the slurm tests); idempotent.
"$root/scripts/setup.sh" --test
QB_SETUP_DONE=1 "$root/scripts/build.sh"
if [ "${QB_SLURM:-1}" != 0 ]; then
  if ! "$root/scripts/slurm/start.sh"; then
    echo "test: WARNING: Slurm could not start on this machine (see above): the tests labelled 'slurm' will SKIP" >&2
  fi
fi
cd "${QB_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc)" "$@"
