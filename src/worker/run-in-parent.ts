/**
 * A batch the parent runs itself (pool/inline-worker.ts), with the workers' own
 * code, synchronously: a large file is cloned or handed back (BatchContext.inParent), so runBatch awaits nothing.
 */
import type { CopyBatch, FromWorker } from '../shared/protocol.js';
import { runBatch } from './run-batch.js';

export function runBatchInParent(batch: CopyBatch, send: (message: FromWorker) => void): void {
  // Workers create files with umask 0 and give the modes themselves: put back before anything else runs.
  const umask = process.umask(0);
  try {
    // Each file under a temporary name even in a staged copy: a dead worker's half-written entries
    // are swept by the parent, but nothing would sweep the parent's own, were it killed mid-file.
    void runBatch({ ...batch, settings: { ...batch.settings, staged: false } }, { pid: process.pid, inParent: true, send, largeFileStep: () => {} });
  } finally {
    process.umask(umask);
  }
}
