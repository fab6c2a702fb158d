/**
 * How long this thread has waited for a core, from the kernel's scheduler
 * statistics (/proc/thread-self/schedstat: time on a core, time waiting on a
 * run queue, in ns). A batch's time on the clock less this is the time its jobs
 * took: on a machine whose cores other processes keep busy, the clock alone
 * makes every job look slow, and the pool would fork workers that only take
 * cores from each other (pool/pace.ts). 0 where the kernel does not say.
 */
import fs from 'node:fs';

const SCHEDSTAT = '/proc/thread-self/schedstat';
let readable = true;

/** Milliseconds this thread has waited on a run queue since it started; 0 where unknown. */
export function coreWaitMs(): number {
  if (!readable) return 0;
  try {
    const fields = fs.readFileSync(SCHEDSTAT, 'latin1').split(' ');
    const waitNs = Number(fields[1]);
    if (Number.isFinite(waitNs)) return waitNs / 1e6;
  } catch {
    // Not Linux, or no schedstat: the clock alone.
  }
  readable = false;
  return 0;
}
