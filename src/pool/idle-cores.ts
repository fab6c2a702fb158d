/**
 * Whether this machine's cores have had time to spare lately, from /proc/stat's
 * idle and iowait counters summed over all cores. Beyond one worker per core, a
 * worker pays only while jobs wait on the file system and a core is free to run
 * it: on a slow mount whose other end shares these cores (a FUSE server, an NFS
 * client's threads), workers forked once the cores are full only add their
 * start-up and take cores from the requests they wait on (pool/forking.ts).
 */
import fs from 'node:fs';

const PROC_STAT = '/proc/stat';
// Long enough for the kernel's tick counters (100 a second per core) to say something.
const SPAN_MS = 100;
// The share of the cores' time a worker needs idle to be forked: about what one takes as it starts
// (half a core for a window, on 2 cores); less is no room, the run queue is long already.
const MIN_IDLE_SHARE = 0.25;

export interface Sample {
  at: number;
  idle: number;
  total: number;
}

export class IdleCores {
  /** Where the window being measured began; undefined before the first look, null once /proc/stat could not be read. */
  private start: Sample | null | undefined;
  /**
   * Workers the last window measured has room for, one for each MIN_IDLE_SHARE of the cores' time
   * idle; each yes takes one. Unbounded until a window is measured: workers fork as fast as the work
   * pays for them until the cores are first seen full.
   */
  private room = Number.POSITIVE_INFINITY;

  constructor(
    /** The cores' idle and total ticks now; null where they cannot be read. */
    private readonly read: (at: number) => Sample | null = readProcStat,
  ) {}

  /**
   * Whether the last window of at least SPAN_MS had room for one more worker: one for each
   * MIN_IDLE_SHARE of the cores' time that went idle in it, less those it already gave. Yes until the
   * first window is measured, and always where /proc/stat cannot be read.
   */
  some(now: number): boolean {
    if (this.start === null) return true;
    if (this.start === undefined || now - this.start.at >= SPAN_MS) {
      const sample = this.read(now);
      const before = this.start;
      this.start = sample;
      if (!sample) return true;
      if (before) {
        const total = sample.total - before.total;
        this.room = total <= 0 ? 1 : Math.floor((sample.idle - before.idle) / total / MIN_IDLE_SHARE);
      }
    }
    // The workers forked on this window's room are in the next window's load, not taken for room again.
    if (this.room <= 0) return false;
    this.room--;
    return true;
  }
}

/** The first line of /proc/stat: ticks of all cores in user, nice, system, idle, iowait, irq, softirq, steal. */
function readProcStat(at: number): Sample | null {
  try {
    const text = fs.readFileSync(PROC_STAT, 'latin1');
    const fields = text.slice(0, text.indexOf('\n')).split(/\s+/).slice(1, 9).map(Number);
    if (fields.length < 5 || fields.some((n) => !Number.isFinite(n))) return null;
    const total = fields.reduce((sum, n) => sum + n, 0);
    return { at, idle: fields[3]! + fields[4]!, total };
  } catch {
    return null;
  }
}
