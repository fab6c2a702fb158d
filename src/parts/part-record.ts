/**
 * What a part did to each of its entries, from the copy's entry events, written
 * as its record (format.ts) when the part ends: what the plan's check reads to
 * prove the copy complete. An entry no event told of (the run stopped before
 * it) is recorded failed.
 */
import type { CopyFailure, EntryEvent } from '../run/types.js';
import { pathText } from '../shared/raw-path.js';
import { doneLine, planFiles, recordLine, writeAtomically, type PartOutcome, type PlannedEntry, type RecordedEntry } from './format.js';

/** The code of an entry that was never reached: the run stopped first. */
const NOT_REACHED = 'ENOTREACHED';

interface Fate {
  outcome: PartOutcome;
  /** As the event gave it; a hard link's second name gives none. */
  size: number | undefined;
  code?: string;
}

export class PartRecorder {
  /** By the event's path (lossless text, relative to the root). */
  private readonly fates = new Map<string, Fate>();

  constructor(private readonly forward: ((event: EntryEvent) => void) | undefined) {}

  /** The copy's onEntry: every entry event of a part goes through here, then to the caller's. */
  readonly onEntry = (event: EntryEvent): void => {
    if (event.type !== 'directory' && event.action !== 'delete') this.told(event);
    this.forward?.(event);
  };

  /** Writes PLAN/records/K whole: one line per planned entry, then the "done" line. */
  write(plan: { directory: string; id: string; part: number; owners: boolean }, entries: readonly PlannedEntry[], stoppedBy: CopyFailure | undefined): void {
    const counts: Record<PartOutcome, number> = { copied: 0, kept: 0, failed: 0 };
    let bytes = 0;
    const lines: string[] = [];
    for (const entry of entries) {
      const fate = this.fates.get(pathText(entry.path)) ?? { outcome: 'failed', size: entry.size, code: stoppedBy?.code ?? NOT_REACHED };
      counts[fate.outcome]++;
      const size = fate.size ?? entry.size;
      if (fate.outcome === 'copied') bytes += size;
      const recorded: RecordedEntry = { path: entry.path, outcome: fate.outcome, size };
      if (fate.code !== undefined) recorded.code = fate.code;
      lines.push(recordLine(recorded));
    }
    lines.push(doneLine({ part: plan.part, plan: plan.id, counts, bytes, owners: plan.owners }));
    writeAtomically(planFiles.record(plan.directory, plan.part), lines.join(''));
  }

  private told(event: EntryEvent): void {
    const earlier = this.fates.get(event.path);
    // A failure found after the copy (a verification) outweighs it.
    if (earlier?.outcome === 'failed') return;
    const { size } = event;
    if (event.action === 'fail') this.fates.set(event.path, { outcome: 'failed', size, code: /\(([^()]*)\)$/.exec(event.reason ?? '')?.[1] ?? 'EUNKNOWN' });
    else this.fates.set(event.path, { outcome: event.action === 'skip' ? 'kept' : 'copied', size });
  }
}
