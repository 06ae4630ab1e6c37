#!/usr/bin/env bash
# Starts a single-node Slurm on this machine for qbuild's `slurm` tests (and for trying
# `executor: slurm` by hand): Debian's slurm-wlm and munge, one node (this host) with two fake
# GPUs, one partition. Idempotent: a second run only checks that it is up. Needs root (or sudo).
#
# The node's GPUs are character devices that behave like /dev/null
# (/dev/qbuild-fake-gpu{0,1}, listed in gres.conf): Slurm hands them out through GRES and sets
# CUDA_VISIBLE_DEVICES for each job exactly as on a GPU node, and nothing ever opens them.
# What a single node on 2 cores needs, found the hard way (see pipline/README.md):
#   ProctrackType=proctrack/linuxproc, TaskPlugin=task/none, no cgroup.conf  (no cgroup plugin)
#   DefMemPerCPU                       without it each job asks for all the node's memory and
#                                      GPU jobs run one at a time
#   JobCompType=jobcomp/filetxt        a permanent record of every finished job (state, node,
#                                      start, end) without a database; `sacct` needs slurmdbd
#                                      and MariaDB, which this script does not set up
# Everything it writes lives in /etc/slurm/{slurm,gres}.conf (only when absent or written by this
# script: a machine with its own Slurm is left alone) and $QB_SLURM_DIR (default
# /var/lib/qbuild-slurm: state, spool, logs, the job-completion record).
#
#   scripts/slurm/start.sh     start (or check) it; exit 0 when the node is up with 2 GPUs
#   scripts/slurm/stop.sh      stop the daemons it started
set -euo pipefail

dir=${QB_SLURM_DIR:-/var/lib/qbuild-slurm}
conf=/etc/slurm/slurm.conf
gres=/etc/slurm/gres.conf
marker="# Written by qbuild scripts/slurm/start.sh"
host=$(hostname -s)
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"

say() { echo "slurm: $*"; }
die() { echo "slurm: cannot start: $*" >&2; exit 1; }

# 1. Packages.
missing=()
for p in slurm-wlm munge; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
fi
command -v slurmctld >/dev/null || die "slurmctld is not on PATH after installing slurm-wlm"

# 2. Configuration (ours only).
if [ -f "$conf" ] && ! grep -qF "$marker" "$conf"; then
  die "$conf exists and was not written by this script (this machine has its own Slurm); not touching it"
fi
slurm_user=root
id slurm >/dev/null 2>&1 && slurm_user=slurm
mem=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
cpus=$(slurmd -C 2>/dev/null | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p')
[ -n "$mem" ] && [ -n "$cpus" ] || die "'slurmd -C' did not report this node's CPUs and memory"
mem=$((mem * 9 / 10))  # leave the rest to the submitting side (qbuild, Ninja, local steps)
$sudo mkdir -p "$dir/state" "$dir/spool" "$dir/log" /etc/slurm
$sudo chown -R "$slurm_user" "$dir/state" "$dir/log"
for i in 0 1; do
  [ -c "/dev/qbuild-fake-gpu$i" ] || $sudo mknod -m 666 "/dev/qbuild-fake-gpu$i" c 1 3 || die "mknod /dev/qbuild-fake-gpu$i failed"
done
new_conf=$(cat <<EOF
$marker: a single node ($host) with two fake GPUs.
ClusterName=qbuild
SlurmctldHost=$host
SlurmUser=$slurm_user
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerType=sched/backfill
GresTypes=gpu
DefMemPerCPU=1024
MpiDefault=none
ReturnToService=2
KillWait=10
MinJobAge=600
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=$host CPUs=$cpus RealMemory=$mem Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
)
new_gres=$(printf '%s\nName=gpu File=/dev/qbuild-fake-gpu0\nName=gpu File=/dev/qbuild-fake-gpu1\n' "$marker")
changed=0
if [ "$(cat "$conf" 2>/dev/null)" != "$new_conf" ]; then echo "$new_conf" | $sudo tee "$conf" >/dev/null; changed=1; fi
if [ "$(cat "$gres" 2>/dev/null)" != "$new_gres" ]; then echo "$new_gres" | $sudo tee "$gres" >/dev/null; changed=1; fi

# 3. Daemons: munged, slurmctld, slurmd (each only when not running).
running() { [ -f "$1" ] && $sudo kill -0 "$(cat "$1")" 2>/dev/null; }
if ! munge -n </dev/null >/dev/null 2>&1; then
  [ -s /etc/munge/munge.key ] || $sudo mungekey --create >/dev/null 2>&1 || die "no munge key (mungekey --create failed)"
  $sudo mkdir -p /run/munge /var/log/munge /var/lib/munge
  $sudo chown munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge/munge.key 2>/dev/null || true
  $sudo runuser -u munge -- /usr/sbin/munged || $sudo /usr/sbin/munged --force || die "munged did not start"
  for _ in $(seq 50); do munge -n </dev/null >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n </dev/null >/dev/null 2>&1 || die "munged is not answering"
fi
if ((changed)) && running "$dir/slurmctld.pid"; then
  say "configuration changed: restarting the daemons"
  "$(dirname "$0")/stop.sh" >/dev/null
fi
if ! running "$dir/slurmctld.pid"; then
  $sudo /usr/sbin/slurmctld -f "$conf" || die "slurmctld did not start (log: $dir/log/slurmctld.log)"
fi
if ! running "$dir/slurmd.pid"; then
  $sudo /usr/sbin/slurmd -f "$conf" || die "slurmd did not start (log: $dir/log/slurmd.log)"
fi

# 4. Wait for the node to take jobs.
state=""
for _ in $(seq 120); do
  state=$(sinfo -h -n "$host" -o '%t' 2>/dev/null | head -n1 || true)
  case "$state" in idle|mix|alloc) break ;; down*|drain*) $sudo scontrol update nodename="$host" state=resume 2>/dev/null || true ;; esac
  sleep 0.5
done
case "$state" in idle|mix|alloc) ;; *) die "node $host is '${state:-not answering}' (logs: $dir/log/)";; esac
gpus=$(sinfo -h -n "$host" -o '%G' | head -n1)
[ "$gpus" = "gpu:2" ] || die "node $host offers GRES '$gpus', not gpu:2 (log: $dir/log/slurmd.log)"
say "ready: $(sinfo --version), node $host ($state), $gpus (fake), partition debug; logs in $dir/log/"
