#!/bin/sh
# A stand-in for foldercopy while the real CLI does not exist yet, with the same
# calling convention: [options] <src> <dest>, copying the contents of src into
# dest (created). Options are ignored. Use it to test the bench end to end:
#   FOLDERCOPY_BIN=bench/fake-foldercopy.sh npm run bench
set -e
if [ $# -lt 2 ]; then
  echo "usage: $0 [options] <src> <dest>" >&2
  exit 2
fi
while [ $# -gt 2 ]; do shift; done
exec cp -a -- "$1/." "$2"
