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
/** Planned copies: the finalize and check steps of a plan (parts/). */
export { finalizePlan, type FinalizePlanOptions, type FinalizeSummary } from './parts/finalize.js';
export { checkPlan, type CheckPlanOptions, type CheckReport } from './parts/check.js';
export type { CheckProblem, CheckProblemCode, CheckStatus } from './parts/check-problems.js';
