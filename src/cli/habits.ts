/**
 * Flags that cp and rsync users type by reflex. Those foldercopy always honours
 * (-a, -r) are accepted as no-ops by cli.ts; for the others, which name a
 * default or have another name here, an unknown-option refusal gives one line
 * that says so instead of "unknown option". Either way nothing is copied with
 * an unknown flag (exit 2).
 */

const ALWAYS_KEPT = 'not needed: foldercopy always keeps modes, times, owners (as root), symlinks, hard links, sparse files, extended attributes and ACLs';
const PROGRESS = 'not needed: progress is shown by default (a bar on a terminal, status lines elsewhere; --no-progress turns it off)';

/** Each flag and what to say about it; a flag with a value (`--info=progress2`) is looked up by its name. */
const HINTS: Readonly<Record<string, string>> = {
  '-P': PROGRESS,
  '--info': PROGRESS,
  '--no-clobber': 'its name here is --ignore-existing',
  '--xattrs': 'not needed: extended attributes are copied by default',
  '-X': ALWAYS_KEPT,
  '-A': ALWAYS_KEPT,
  '--acls': ALWAYS_KEPT,
  '-H': ALWAYS_KEPT,
  '--hard-links': ALWAYS_KEPT,
  '--sparse': ALWAYS_KEPT,
  '-S': ALWAYS_KEPT,
  '-t': ALWAYS_KEPT,
  '--times': ALWAYS_KEPT,
  '-p': ALWAYS_KEPT,
  '--perms': ALWAYS_KEPT,
  '-o': ALWAYS_KEPT,
  '--owner': ALWAYS_KEPT,
  '-g': ALWAYS_KEPT,
  '--group': ALWAYS_KEPT,
  '-l': ALWAYS_KEPT,
  '--links': ALWAYS_KEPT,
  '--preserve': ALWAYS_KEPT,
};

/**
 * Commander's error message as one line: a reflex flag gets its hint, a typo
 * its suggestion on the same line (commander puts it on a second, in
 * parentheses), and every line the pointer to --help.
 */
export function usageErrorLine(message: string): string {
  const text = message.replace(/^error: /, '').trim();
  const unknown = /^unknown option '([^']*)'/.exec(text);
  const flag = unknown?.[1]?.replace(/=.*$/s, '');
  const hint = flag === undefined ? undefined : HINTS[flag];
  if (hint !== undefined) return `foldercopy: unknown option '${unknown![1]}': ${hint} (see foldercopy --help)`;
  const oneLine = text.replace(/\s*\n\(Did you mean (.*)\?\)$/s, ', did you mean $1?');
  return `foldercopy: ${oneLine} (see foldercopy --help)`;
}
