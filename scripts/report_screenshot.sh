#!/usr/bin/env bash
# The README's picture of the report: runs the demo (scripts/demo.sh: set up, build, build the
# embedded pipeline, which writes results/demo_mmlu_gsm8k.html), then has headless Chromium
# (Debian's `chromium`; `scripts/setup.sh --test` installs it) draw the page into
# results/demo-report.png. Arguments: the picture's width and height in pixels (default 1400 2600).
#   QB_CHROMIUM   another Chromium binary
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh" --test
QB_SETUP_DONE=1 "$root/scripts/demo.sh"
page="$root/results/demo_mmlu_gsm8k.html"
[ -f "$page" ] || { echo "report_screenshot: the demo wrote no $page" >&2; exit 1; }
chromium="${QB_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
[ -n "$chromium" ] || { echo "report_screenshot: chromium is not installed (apt-get install chromium)" >&2; exit 1; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# --virtual-time-budget lets Vega's asynchronous rendering finish before the picture is taken.
"$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
  --user-data-dir="$profile" --hide-scrollbars --virtual-time-budget=20000 \
  --window-size="${1:-1400},${2:-2600}" --screenshot="$root/results/demo-report.png" "file://$page" >/dev/null 2>&1
echo "report_screenshot: wrote results/demo-report.png"
