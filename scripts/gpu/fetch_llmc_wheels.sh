#!/usr/bin/env bash
# Here (network): downloads llm-compressor 0.14.0.1 and what it imports beyond a CUDA torch into
# .deps/llmc/ (git-ignored), for scripts/gpu/smooth_awq.sh's comparison on the GPU machine,
# which has no network. torch and its own dependencies (numpy, sympy, networkx, jinja2,
# filelock, fsspec, typing_extensions) are not fetched: the machine's CUDA torch provides them.
# smooth_awq.sh installs from them only what the machine's Python lacks.
#   usage: scripts/gpu/fetch_llmc_wheels.sh [PYTHON_VERSION]   (default 3.11; the GPU machine's
#          `python3 --version` decides)
#   SKIP="pyarrow pandas" leaves out packages the GPU machine's Python already has.
# Carry .deps (run's carry limit is 64 MiB in all): all of it is ~95 MB for Python 3.11, pyarrow
# alone 53 MB, so check what the machine has first (python3 -c 'import pyarrow, pandas').
set -euo pipefail
py=${1:-3.11}
dest=.deps/llmc
mkdir -p "$dest"
pkgs=(llmcompressor==0.14.0.1 compressed-tensors==0.19.0 transformers==5.17.0 accelerate==1.16.0
      datasets==5.2.0 pyarrow==26.0.1 pandas==3.1.1 dill==0.4.1 multiprocess==0.70.19 xxhash==4.1.0
      huggingface_hub==1.33.0 hf-xet==1.8.0 tokenizers==0.23.3 safetensors==0.8.0 regex==2026.12.2
      loguru==0.7.3 pydantic==2.14.4 pydantic_core==2.50.5 annotated-types==0.8.0
      typing-inspection==0.4.5 python-dateutil==4.0.0 tzdata==2026.6 PyYAML==6.0.4 tqdm==4.70.1
      requests==2.34.2 certifi==2026.10.19.post1 charset-normalizer==3.5.3 idna==3.21
      urllib3==2.8.0 psutil==7.2.2 nvidia-ml-py==13.615.71 httpx==0.29.0 httpcore==1.0.9 h11==0.16.0
      anyio==4.16.0 click==8.5.1 typer==0.29.2 rich==15.0.0 markdown-it-py==4.3.0 mdurl==0.1.2
      Pygments==2.21.0 shellingham==1.5.4 annotated-doc==0.0.7 packaging==26.4 six)
for skip in ${SKIP:-}; do
  for i in "${!pkgs[@]}"; do [[ "${pkgs[$i]%%==*}" == "$skip" ]] && unset 'pkgs[i]'; done
done
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version "$py" \
  --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
  -d "$dest" "${pkgs[@]}"
du -sh "$dest"
