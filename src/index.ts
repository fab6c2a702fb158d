/** The library: copyFolder() and the types its options, callbacks and summary use. */
export { copyFolder } from './run/copy-folder.js';
export type { CopyFailure, CopyOptions, CopyProgress, CopySkip, CopySummary, EntryEvent, Operation, OverwritePolicy } from './run/types.js';
export { EXIT_CODES, FoldercopyError } from './shared/errors.js';
