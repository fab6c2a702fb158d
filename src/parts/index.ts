/**
 * The library's planned-copy steps, loaded only when one is called: most runs are
 * ordinary copies, and this code would add to every start-up (parsed, never run).
 */
import type { copyPart as CopyPart } from './copy-part.js';
import type { checkPlan as CheckPlan } from './check.js';
import type { finalizePlan as FinalizePlan } from './finalize.js';
import type { makePlan as MakePlan } from './make-plan.js';

/** Plans a copy into parts (README "Copying in parts"): one walk of the source, nothing copied. */
export async function makePlan(...args: Parameters<typeof MakePlan>): ReturnType<typeof MakePlan> {
  return (await import('./make-plan.js')).makePlan(...args);
}

/** Copies one part of a plan. */
export async function copyPart(...args: Parameters<typeof CopyPart>): ReturnType<typeof CopyPart> {
  return (await import('./copy-part.js')).copyPart(...args);
}

/** After every part: the directories' modes and times, the planned --delete, the lock released. */
export async function finalizePlan(...args: Parameters<typeof FinalizePlan>): ReturnType<typeof FinalizePlan> {
  return (await import('./finalize.js')).finalizePlan(...args);
}

/** Proves a planned copy complete, incomplete, mismatched, or its source changed since planning. */
export async function checkPlan(...args: Parameters<typeof CheckPlan>): ReturnType<typeof CheckPlan> {
  return (await import('./check.js')).checkPlan(...args);
}
