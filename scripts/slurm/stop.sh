#!/usr/bin/env bash
# Stops the single-node Slurm that scripts/slurm/start.sh started (slurmd, then slurmctld; munged
# is left running: other programs may use it). Its configuration and state stay.
set -uo pipefail
dir=${QB_SLURM_DIR:-/var/lib/qbuild-slurm}
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
for d in slurmd slurmctld; do
  pidfile="$dir/$d.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if $sudo kill "$pid" 2>/dev/null; then
    for _ in $(seq 100); do $sudo kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "slurm: stopped $d (pid $pid)"
  fi
  $sudo rm -f "$pidfile"
done
