export { copyFolder } from './api.js';
export type { CopyFailure, CopyOptions, CopyProgress, CopySkip, CopySummary } from './api.js';
export { EXIT_CODES, FoldercopyError } from './errors.js';
export type { Operation } from './protocol.js';
