import { decodeResults, type FilesDone, type JobResult } from '../shared/protocol.js';
import type { Batch } from './worker-process.js';

/**
 * The results a worker's confirmation carries for `batch`, its first in flight,
 * or how the confirmation breaks the protocol (which stops the run: the
 * parent's tables and the worker's would disagree from then on).
 */
export function readConfirmation(pid: number, batch: Batch | undefined, message: FilesDone): JobResult[] | string {
  if (batch?.id !== message.batchId) return `worker ${pid} confirmed batch ${message.batchId} out of order`;
  let results: JobResult[];
  try {
    results = decodeResults(message);
  } catch (error) {
    return `worker ${pid} sent results that do not decode: ${(error as Error).message}`;
  }
  if (results.length > batch.jobs.length - batch.confirmed) return `worker ${pid} confirmed more jobs than batch ${batch.id} holds`;
  return results;
}
