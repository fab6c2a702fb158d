/** What the check step (check.ts) finds wrong, each kind with the status it gives the copy. */
import { joinRaw, pathText, type RawPath } from '../shared/raw-path.js';

export type CheckStatus = 'complete' | 'incomplete' | 'mismatched' | 'source-changed';

export type CheckProblemCode =
  | 'source-added'
  | 'source-removed'
  | 'source-changed'
  | 'recorded-twice'
  | 'not-planned'
  | 'destination-missing'
  | 'destination-differs'
  | 'part-missing'
  | 'entry-missing'
  | 'entry-failed'
  | 'planning-failed'
  | 'not-finalized';

export interface CheckProblem {
  code: CheckProblemCode;
  /** The path to look at: in the source, at the destination, or the plan's file. Lossless text (surrogateescape). */
  path: string;
  detail: string;
}

export const STATUS_OF: Readonly<Record<CheckProblemCode, Exclude<CheckStatus, 'complete'>>> = {
  'source-added': 'source-changed',
  'source-removed': 'source-changed',
  'source-changed': 'source-changed',
  'recorded-twice': 'mismatched',
  'not-planned': 'mismatched',
  'destination-missing': 'mismatched',
  'destination-differs': 'mismatched',
  'part-missing': 'incomplete',
  'entry-missing': 'incomplete',
  'entry-failed': 'incomplete',
  'planning-failed': 'incomplete',
  'not-finalized': 'incomplete',
};

/** A problem with an entry of a tree, named by its path below that tree's root. */
export function problemAt(code: CheckProblemCode, root: RawPath, relative: RawPath, detail: string): CheckProblem {
  return { code, path: pathText(joinRaw(root, relative)), detail };
}
