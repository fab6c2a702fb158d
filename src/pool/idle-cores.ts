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
// Less than this share of the cores' time idle is no room for another worker: the run queue is long already.
const MIN_IDLE_SHARE = 0.25;

export interface Sample {
  at: number;
  idle: number;
  total: number;
}

export class IdleCores {
  /** Where the window being measured began; undefined before the first look, null once /proc/stat could not be read. */
  private start: Sample | null | undefined;
  private answer = true;

  constructor(
    /** The cores' idle and total ticks now; null where they cannot be read. */
    private readonly read: (at: number) => Sample | null = readProcStat,
  ) {}

  /**
   * Whether more than MIN_IDLE_SHARE of the cores' time went idle in the last window of at least
   * SPAN_MS; yes until one has been measured (workers fork as fast as the work pays for them until
   * the cores are seen full), and always where /proc/stat cannot be read.
   */
  some(now: number): boolean {
    if (this.start === null) return true;
    if (this.start !== undefined && now - this.start.at < SPAN_MS) return this.answer;
    const sample = this.read(now);
    const before = this.start;
    this.start = sample;
    if (!sample) this.answer = true;
    else if (before) {
      const total = sample.total - before.total;
      this.answer = total <= 0 || (sample.idle - before.idle) / total > MIN_IDLE_SHARE;
    }
    return this.answer;
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
