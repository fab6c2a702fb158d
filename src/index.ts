/** The library: copyFolder() and the types its options, callbacks and summary use. */
export { copyFolder } from './run/copy-folder.js';
export type { CopyFailure, CopyOptions, CopyProgress, CopySkip, CopySummary, CopyWarning, EntryEvent, MetadataNotKept, Operation, OverwritePolicy, SnapshotReport } from './run/types.js';
export { EXIT_CODES, FoldercopyError } from './shared/errors.js';
/** The exact bytes of a path the library gave out (lossless text, surrogateescape). */
export { pathBytes } from './shared/raw-path.js';
