#!/bin/sh
# A planned copy under Slurm, start to end: make the plan, copy its parts as a job array, finalize,
# check. Exits with the check's code (0 complete, 3 incomplete, 4 mismatched, 5 source changed;
# README "Planned copies").
#
#   scripts/slurm-planned-copy.sh SRC DEST PLANDIR P N
#     P  parts (array tasks 0..P-1)      N  at most N parts running at once (sbatch --array=...%N)
#
# Each task runs examples/slurm-planned-copy.sbatch: `foldercopy --plan PLANDIR`, the part from
# SLURM_ARRAY_TASK_ID. Its output goes to PLANDIR.logs/part-K.out. Needs a Slurm whose nodes see
# SRC, DEST and PLANDIR at the same paths (one node: scripts/slurm-local.sh). FOLDERCOPY is the
# command to run (default: this checkout's bin/foldercopy.js under the node that runs this script).
# Extra sbatch options (partition, time limit...) go in SBATCH_OPTIONS.
set -eu

if [ $# -ne 5 ]; then
  echo "usage: $0 SRC DEST PLANDIR PARTS MAX_RUNNING" >&2
  exit 2
fi
src=$1 dest=$2 plan=$3 parts=$4 running=$5
case $parts$running in *[!0-9]*) echo "$0: PARTS and MAX_RUNNING are whole numbers" >&2; exit 2 ;; esac
if [ "$parts" -lt 1 ] || [ "$running" -lt 1 ]; then echo "$0: PARTS and MAX_RUNNING are at least 1" >&2; exit 2; fi

repo=$(cd "$(dirname "$0")/.." && pwd)
export FOLDERCOPY="${FOLDERCOPY:-$(command -v node) $repo/bin/foldercopy.js}"
# Tasks run with other working directories: every path they get is absolute.
absolute() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$(pwd)" "$1" ;; esac; }
plan=$(absolute "$plan")
logs=$plan.logs

step() { echo "== $(date -u +%H:%M:%S) $*" >&2; }

step "1/4 plan: foldercopy $src $dest --make-plan $plan --parts $parts"
# shellcheck disable=SC2086 # FOLDERCOPY is a command line (interpreter and script)
$FOLDERCOPY "$src" "$dest" --make-plan "$plan" --parts "$parts"

mkdir -p "$logs"
step "2/4 parts: sbatch --array=0-$((parts - 1))%$running --wait (output in $logs)"
started=$(date +%s)
parts_code=0
# shellcheck disable=SC2086 # SBATCH_OPTIONS is a list of options
sbatch --array="0-$((parts - 1))%$running" --wait --job-name=foldercopy-parts \
  --output="$logs/part-%a.out" ${SBATCH_OPTIONS:-} \
  "$repo/examples/slurm-planned-copy.sbatch" "$plan" || parts_code=$?
step "parts ended after $(($(date +%s) - started)) s (highest task exit code: $parts_code)"

finalize_code=0
if [ "$parts_code" -eq 0 ]; then
  step "3/4 finalize: foldercopy --plan $plan --finalize"
  # shellcheck disable=SC2086
  $FOLDERCOPY --plan "$plan" --finalize || finalize_code=$?
else
  # Finalizing now would set directory times that the missing parts' files then change.
  step "3/4 finalize: skipped, some parts failed; the check below names them"
fi

step "4/4 check: foldercopy --plan $plan --check"
check_code=0
# shellcheck disable=SC2086
$FOLDERCOPY --plan "$plan" --check || check_code=$?

if [ "$parts_code" -ne 0 ]; then
  echo "Re-run the parts the check names (e.g. sbatch --array=2,5 --wait" \
    "$repo/examples/slurm-planned-copy.sbatch $plan), then run this script's steps 3 and 4." >&2
  [ "$check_code" -ne 0 ] && exit "$check_code"
  exit 1
fi
[ "$check_code" -eq 0 ] && exit "$finalize_code"
exit "$check_code"
