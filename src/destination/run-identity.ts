/**
 * What tells one run of foldercopy from another beyond its pid, which the kernel
 * reuses: the process's start time and its user. The lock records them, and a
 * lock or staging directory found beside a destination is trusted only when they
 * still match (Linux: read from /proc, which the rest of foldercopy needs too).
 */
import fs from 'node:fs';

export interface RunIdentity {
  pid: number;
  /** Clock ticks from boot to the process's start: field 22 of /proc/<pid>/stat. */
  start: string;
  /** The process's effective user. */
  uid: number;
}

/** The process that has this pid now; undefined when there is none. */
export function runIdentity(pid: number): RunIdentity | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name, field 2, may hold spaces and parentheses: count fields from after its last ')'.
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    if (start === undefined) return undefined;
    return { pid, start, uid: fs.statSync(`/proc/${pid}`).uid };
  } catch {
    return undefined;
  }
}

export function isSameRun(now: RunIdentity | undefined, recorded: RunIdentity): boolean {
  return now !== undefined && now.pid === recorded.pid && now.start === recorded.start && now.uid === recorded.uid;
}

let names: Map<number, string> | undefined;

/** The user's login name for a message, or the number where /etc/passwd has none. */
export function userName(uid: number): string {
  if (names === undefined) {
    names = new Map();
    try {
      for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const [name, , id] = line.split(':');
        if (name && id !== undefined && !names.has(Number(id))) names.set(Number(id), name);
      }
    } catch {
      // No user database: numbers it is.
    }
  }
  return names.get(uid) ?? String(uid);
}
