#!/bin/sh
# A one-node Slurm cluster on this machine, for trying planned copies under a real scheduler
# (scripts/slurm-planned-copy.sh, examples/slurm-planned-copy.sbatch) without a cluster.
#
#   scripts/slurm-local.sh [start]   install slurm-wlm and munge if missing, write the config, start
#                                    munged, slurmctld and slurmd, wait until the node is idle
#   scripts/slurm-local.sh stop      cancel our jobs, stop the daemons this script started
#   scripts/slurm-local.sh status    say what runs
#
# Idempotent: start with everything up only checks; stop with nothing up does nothing. Run as root
# (it installs packages and starts daemons). Made for containers and small VMs: no cgroups
# (proctrack/linuxproc, task/none), no accounting database, no systemd; all state, logs and pid
# files under $FOLDERCOPY_SLURM_STATE (default /var/tmp/foldercopy-slurm). It writes
# /etc/slurm/slurm.conf (where sinfo, sbatch... look) only if that file is absent or was written by
# this script: a real cluster's configuration is never overwritten.
set -eu

STATE=${FOLDERCOPY_SLURM_STATE:-/var/tmp/foldercopy-slurm}
CONF=/etc/slurm/slurm.conf
MARK='# written by foldercopy scripts/slurm-local.sh'
MUNGE_SOCKET=/run/munge/munge.socket.2
WAIT_SECONDS=${FOLDERCOPY_SLURM_WAIT:-120}

say() { echo "slurm-local: $*" >&2; }
die() { say "$*"; exit 1; }

# A pid file names a live process (zombies count as gone: they run nothing).
# A daemon removes its pid file as it exits: the file can go between the test and the read.
alive() {
  alive_pid=$(cat "$1" 2> /dev/null) && [ -n "$alive_pid" ] || return 1
  [ -d "/proc/$alive_pid" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$alive_pid/status" 2> /dev/null
}

write_config() {
  # slurmd -C measures this node (CPUs, sockets, cores, memory) the way slurmctld will check it.
  node=$(slurmd -C | head -n 1)
  name=$(printf '%s\n' "$node" | sed 's/^NodeName=\([^ ]*\).*/\1/')
  mkdir -p "$STATE/slurmctld" "$STATE/slurmd"
  cat > "$STATE/slurm.conf.new" <<CONF
$MARK
# State, logs and pid files: $STATE. Stop with: scripts/slurm-local.sh stop
ClusterName=foldercopy-local
SlurmctldHost=$name(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
MpiDefault=none
# No cgroups: they are not available (or not delegated) in containers and small VMs.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$STATE/slurmctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  if [ -f "$CONF" ] && ! grep -qxF "$MARK" "$CONF"; then
    rm -f "$STATE/slurm.conf.new"
    die "$CONF exists and was not written by this script; not touching it"
  fi
  if [ -f "$CONF" ] && cmp -s "$STATE/slurm.conf.new" "$CONF"; then
    rm -f "$STATE/slurm.conf.new"
    return
  fi
  # A changed configuration (e.g. the memory slurmd measures) needs the daemons restarted.
  if alive "$STATE/slurmctld.pid" || alive "$STATE/slurmd.pid"; then
    say "configuration changed: restarting the daemons"
    stop_slurm
  fi
  mkdir -p "$(dirname "$CONF")"
  mv "$STATE/slurm.conf.new" "$CONF"
}

start_munge() {
  if [ -S "$MUNGE_SOCKET" ] && munge -n > /dev/null 2>&1; then return; fi
  # Debian's package makes the key at install; the service (not run here: no systemd) makes the rest.
  [ -s /etc/munge/munge.key ] || die "/etc/munge/munge.key is missing (reinstall munge)"
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 0755 /run/munge
  runuser -u munge -- /usr/sbin/munged
  : > "$STATE/munged.ours"
  munge -n > /dev/null || die "munged does not answer (see /var/log/munge/munged.log)"
}

start_slurm() {
  alive "$STATE/slurmctld.pid" || slurmctld
  alive "$STATE/slurmd.pid" || slurmd
}

wait_idle() {
  waited=0
  while :; do
    node_state=$(sinfo -h -N -o '%T' 2>/dev/null | head -n 1 || true)
    case $node_state in
      idle|mixed|allocated) return ;;
      down*|drain*)
        # A node left down by an earlier run (e.g. it was stopped with jobs) comes back explicitly.
        scontrol update NodeName=ALL State=RESUME > /dev/null 2>&1 || true ;;
    esac
    [ "$waited" -ge "$WAIT_SECONDS" ] &&
      die "node not idle after ${WAIT_SECONDS}s (state: ${node_state:-no answer}); see $STATE/slurmctld.log and $STATE/slurmd.log"
    sleep 1
    waited=$((waited + 1))
  done
}

# Waits up to 30 s for the process a pid file names to end, then kills it.
stop_pid_file() {
  alive "$1" || { rm -f "$1"; return 0; }
  pid=$alive_pid
  kill "$pid" 2> /dev/null || true
  tries=0
  while alive "$1" && [ "$tries" -lt 30 ]; do sleep 1; tries=$((tries + 1)); done
  if alive "$1"; then say "$2 ($pid) did not stop in 30 s: killing it"; kill -9 "$pid" 2> /dev/null || true; fi
  rm -f "$1"
}

stop_slurm() {
  if alive "$STATE/slurmctld.pid"; then
    # Jobs first, so that no slurmstepd (a job's keeper) outlives its slurmd.
    scancel --full --quiet --user=root > /dev/null 2>&1 || true
    tries=0
    while [ -n "$(squeue -h -o %i 2> /dev/null)" ] && [ "$tries" -lt 30 ]; do sleep 1; tries=$((tries + 1)); done
  fi
  stop_pid_file "$STATE/slurmd.pid" slurmd
  stop_pid_file "$STATE/slurmctld.pid" slurmctld
  # A slurmstepd (a job's keeper) left by a job that would not end: ours if it works in our state
  # directory; ended by its pid, with the job it keeps (its process group).
  for pid in $(pgrep -x slurmstepd 2> /dev/null || true); do
    case $(readlink "/proc/$pid/cwd" 2> /dev/null) in
      "$STATE"|"$STATE"/*) say "ending slurmstepd $pid"; pkill -9 -P "$pid" 2> /dev/null || true; kill -9 "$pid" 2> /dev/null || true ;;
    esac
  done
}

stop_munge() {
  [ -f "$STATE/munged.ours" ] || return 0
  munged --stop > /dev/null 2>&1 || true
  rm -f "$STATE/munged.ours"
}

case ${1:-start} in
  start)
    started=$(date +%s)
    "$(dirname "$0")/ensure-packages.sh" slurm-wlm munge
    mkdir -p "$STATE"
    write_config
    start_munge
    start_slurm
    wait_idle
    say "up in $(($(date +%s) - started)) s: $(sinfo -h -N -o '%N %T, %c CPUs, %m MB')"
    ;;
  stop)
    [ -d "$STATE" ] || exit 0
    stop_slurm
    stop_munge
    say "stopped"
    ;;
  status)
    for daemon in slurmctld slurmd; do
      if alive "$STATE/$daemon.pid"; then echo "$daemon: running ($(cat "$STATE/$daemon.pid"))"; else echo "$daemon: stopped"; fi
    done
    if munge -n > /dev/null 2>&1; then echo "munged: running"; else echo "munged: stopped"; fi
    if alive "$STATE/slurmctld.pid"; then sinfo -N; fi
    ;;
  *)
    die "usage: $0 [start|stop|status]"
    ;;
esac
