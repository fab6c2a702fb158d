/** The library: copyFolder(), copyFolders() and the types their options, callbacks and summaries use, and a few helpers. */
export { copyFolder } from './run/copy-folder.js';
export { copyFolders } from './run/copies.js';
export type {
  CopyFailure,
  CopyFoldersOptions,
  CopyFoldersSummary,
  CopyOptions,
  CopyProgress,
  CopySkip,
  CopySummary,
  CopyWarning,
  EntryEvent,
  MetadataNotKept,
  Operation,
  OverwritePolicy,
  Shard,
  SnapshotReport,
  VerifiedCount,
} from './run/types.js';
export { EXIT_CODES, FoldercopyError } from './shared/errors.js';
/** The most worker processes the jobs option takes. */
export { MAX_JOBS } from './run/options.js';
/** The exact bytes of a path the library gave out (lossless text, surrogateescape), and back. */
export { pathBytes, pathFromBytes } from './shared/raw-path.js';
/** Where copies of this process are being staged now: what a program that exits mid-copy leaves. */
export { stagedCopies } from './destination/staging.js';
/** Whether a copy would put a folder's contents beside unrelated entries (the cp habit `cp -r photos backups/`). */
export { contentsBesideOthers } from './delete/refusals.js';
/** A planned copy (README "Copying in parts"): one plan, then each part as its own task. */
export { checkPlan, copyPart, finalizePlan, makePlan } from './parts/index.js';
export { DEFAULT_MAX_PART_FILES, MAX_PARTS } from './parts/limits.js';
export type { MakePlanOptions, PlanSummary } from './parts/make-plan.js';
export type { CopyPartOptions, PartSummary } from './parts/copy-part.js';
export type { FinalizePlanOptions, FinalizeSummary } from './parts/finalize.js';
export type { CheckPlanOptions, CheckReport } from './parts/check.js';
export type { CheckProblem, CheckProblemCode, CheckStatus } from './parts/check-problems.js';
