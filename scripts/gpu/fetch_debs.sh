#!/usr/bin/env bash
# Here (a Debian machine with apt): downloads the .debs the GPU machine lacks into .deps/.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .deps && cd .deps
apt-get download libsqlite3-dev libsqlite3-0 libxxhash-dev libxxhash0 libpcre2-dev libpcre2-8-0 \
  libpcre2-16-0 libpcre2-32-0 libpcre2-posix3 libutf8proc-dev libutf8proc2 libcli11-dev \
  libjs-vega  # the charting library the HTML report inlines (build_and_test.sh unpacks it too)
# The CUTLASS headers of the W8A8 int8 GEMM (build_and_test.sh unpacks the wheel; pinned).
[ -f nvidia_cutlass-4.2.0.0-py3-none-any.whl ] ||
  python3 -m pip download --no-deps --no-cache-dir nvidia-cutlass==4.2.0.0 -d .
