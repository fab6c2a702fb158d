#!/bin/sh
# A planned copy as the README's "Copying in parts" describes it, for the bench:
#   parts.sh PARTS TASKS 'PART OPTIONS' SRC DEST
# makes a plan of PARTS parts beside DEST, runs the parts as GNU parallel tasks,
# TASKS at once (each part's index from PARALLEL_SEQ, each with PART OPTIONS,
# e.g. '-j 2'), then finalize and check.
# Exits with the first failing step's code. FOLDERCOPY_BIN overrides the CLI.
set -eu
parts=$1 tasks=$2 part_options=$3 src=$4 dest=$5
here=$(cd "$(dirname "$0")" && pwd)
fc=${FOLDERCOPY_BIN:-"node $here/../bin/foldercopy.js"}
plan="$dest.plan"
rm -rf -- "$plan"
trap 'rm -rf -- "$plan"' EXIT
# The bench's corpora hold up to 50,000 files: eight parts need more than the default 2,000 a part.
$fc -q --make-plan "$plan" --parts "$parts" --max-part-files 10000 "$src" "$dest"
# --halt now,fail=1: a failed part fails the run at once, as a failed copy would.
seq "$parts" | parallel -n0 -j "$tasks" --halt now,fail=1 "$fc -q $part_options --plan '$plan' >/dev/null"
$fc -q --plan "$plan" --finalize
$fc -q --plan "$plan" --check
