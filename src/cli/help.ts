/** The text after --help's option list: what a copy does, the filters, examples and exit codes. */
export const HELP_AFTER = `
The destination receives the contents of the source, like \`rsync -a src/ dest/\`:
running the same command again never nests a copy inside the copy. Files are
written under a temporary name and renamed into place when complete. On a re-run,
a file whose copy has the same size and mtime is skipped (rsync's quick check).
A copy that would replace files in a directory that does not look like an
earlier copy of the source (\`cd mine && foldercopy ../lib .\`, meant as ./lib)
is refused (exit 2) before anything is written; --overwrite says to go ahead.

-n and -v list what changes (created, overwritten, deleted) on stdout, so
\`foldercopy -n src dest > changes.txt\` keeps the listing; -vv lists skips too; -i
lists rsync's itemized lines (>f.st...... path) instead. Progress, failures and the
summary go to stderr.

--delete refuses to start (exit 2) when the destination holds entries none of
which is in the source, or when more than half of its top level would go: the
usual sign of \`foldercopy photos backups/\` meant as \`backups/photos\`. Give
--max-delete to mirror anyway.

Filters: a glob without a slash matches a name at any depth (--exclude node_modules,
--exclude '*.log'); with a slash it matches the path from the source root
(--exclude 'build/**'). An excluded directory is not descended into; excluded
entries at the destination are never deleted.

Several sources, as \`cp -a a b c dest/\`: each goes to dest/<its name>, and the last
argument is the destination. A source with glob characters that is no path is a glob:
its matching files are copied at their paths below the glob's static part (the base:
\`build/\` in 'build/**/*.map'); --flat puts them all in the destination itself.
Quote globs so that foldercopy, not the shell, expands them.

Copying in parts, beyond one machine: --make-plan walks the source once and
splits the copy into --parts parts in a plan directory that every host sees;
\`foldercopy --plan DIR --part K\` then copies part K (K from the scheduler's index
when --part is not given: JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, PARALLEL_SEQ-1),
any number at once; the destination is locked for the plan until its --finalize.

Examples:
  $ foldercopy ./build /mnt/backup/build
      copy the contents of ./build into /mnt/backup/build
  $ foldercopy a b c dest
      copy a, b and c to dest/a, dest/b and dest/c
  $ foldercopy 'build/**/*.map' artifacts
      copy the .map files to artifacts/, their paths below build/ kept
  $ foldercopy ./photos
      copy to ./photos_copy
  $ foldercopy -j 4 src dest
      use 4 worker processes
  $ foldercopy --delete --dry-run src dest
      preview a mirror: what would be copied and deleted
  $ foldercopy --shard 2/8 src dest
      copy an eighth of the files (every directory), rclone's --hash-filter
      split: one job of a CI matrix, the 8 together copy them all
  $ foldercopy --json -q src dest > r.json
      a machine-readable summary for CI
  $ foldercopy --snapshot --keep 14 /home /srv/backups/home
      a dated snapshot in /srv/backups/home, unchanged files hard-linked to the
      newest one there, latest pointed at it, the oldest beyond 14 removed
  $ foldercopy /data /mnt/dst --make-plan /shared/plan --parts 64
  $ seq 0 63 | parallel -j 8 foldercopy -q --plan /shared/plan --part {}
      plan a copy in 64 parts, then run 8 of them at a time

Exit codes:
  0        everything was copied (special files are skipped with a warning)
  1        some entries failed, the copy stopped (destination full, a --log or
           --manifest that cannot be written, or worker processes that keep
           dying), --delete deleted nothing because of a failure or
           --max-delete, or stdout could not be written
  2        refused: bad arguments, a destination that cannot be written, another
           run copying into it, a --delete that would empty it, a plan that cannot
           be read or was edited since planning: nothing was copied
  3/4/5    --plan --check: incomplete / mismatched / the source changed since planning
  130/143  interrupted by Ctrl-C (SIGINT) / SIGTERM; a partial summary is printed
  129      stopped by SIGHUP (the terminal closed), as by SIGTERM`;
