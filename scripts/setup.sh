#!/usr/bin/env bash
# Makes a fresh Debian/Ubuntu machine ready to build qbuild. Idempotent: a second run only
# checks. Installs the Debian packages qbuild builds against (and libjs-vega, the charting
# library the HTML report inlines) and, when no Python on the machine has PyTorch, a local
# virtual environment .venv/ with the torch wheel (libtorch comes from it).
#
#   --test          also what the tests need beyond the build: Debian's chromium (headless, it
#                   renders the report in tests/report/browser_test.cc) and a font for its
#                   screenshots; Debian's slurm-wlm and munge, the single-node Slurm that
#                   scripts/slurm/start.sh starts for the tests labelled slurm. scripts/test.sh
#                   (what CI runs) passes it.
#   QB_TORCH_SPEC   pip requirement for torch (default: torch==2.13.0)
#   QB_PYTHON       a python3 whose torch to use (skips the .venv)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

pkgs=(build-essential cmake ninja-build pkg-config git python3 python3-venv python3-pip
      libyaml-cpp-dev libxxhash-dev libsqlite3-dev libspdlog-dev libfmt-dev
      libgtest-dev libgmock-dev libpcre2-dev libutf8proc-dev nlohmann-json3-dev libcli11-dev sqlite3
      libjs-vega)
for arg in "$@"; do
  case "$arg" in
    --test) pkgs+=(chromium fonts-dejavu-core slurm-wlm munge) ;;
    *) echo "setup: unknown option '$arg' (known: --test)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

has_torch() { "$1" -c 'import torch' >/dev/null 2>&1; }
if [ -n "${QB_PYTHON:-}" ] && has_torch "$QB_PYTHON"; then
  py="$QB_PYTHON"
elif [ -x "$root/.venv/bin/python" ] && has_torch "$root/.venv/bin/python"; then
  py="$root/.venv/bin/python"
elif has_torch python3; then
  py=$(command -v python3)
else
  echo "setup: no PyTorch found; installing ${QB_TORCH_SPEC:-torch==2.13.0} into $root/.venv"
  python3 -m venv "$root/.venv"
  "$root/.venv/bin/pip" install -q "${QB_TORCH_SPEC:-torch==2.13.0}"
  py="$root/.venv/bin/python"
fi
# Parquet datasets are read through the pyarrow wheel's libarrow/libparquet (Debian has none).
if ! "$py" -c 'import pyarrow' >/dev/null 2>&1; then
  if [ "$py" = "$root/.venv/bin/python" ]; then
    "$root/.venv/bin/pip" install -q "${QB_PYARROW_SPEC:-pyarrow==26.0.1}" ||
      echo "setup: warning: could not install pyarrow; Parquet datasets will be unavailable (JSONL/CSV work)"
  else
    echo "setup: note: $py has no pyarrow; Parquet datasets will be unavailable (JSONL/CSV work)"
  fi
fi
echo "$py" > "$root/.venv-python"
echo "setup: ready (libtorch from $("$py" -c 'import torch; print(torch.__version__)') via $py)"
