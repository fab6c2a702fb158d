/**
 * Everything a run opens or creates before the first copy, in one step that
 * turns each failure into a refusal: the --log and --manifest files, the
 * destination's missing parents, and the staging directory of a first copy.
 * A refusal here undoes what the step had opened.
 */
import fs from 'node:fs';
import path from 'node:path';
import { refusal } from '../shared/errors.js';
import { rawFromString, type RawPath } from '../shared/raw-path.js';
import { stage, type Staging } from '../destination/staging.js';
import { EntryLog } from './entry-log.js';
import { Manifest } from './manifest.js';
import type { RunOptions } from './options.js';
import type { CopyTarget } from './preflight.js';

export interface PreparedRun {
  settings: RunOptions;
  /** Where entries are written: the destination, or the staging directory of a first copy. */
  writtenTo: RawPath;
  staging: Staging | null;
  log: EntryLog | null;
  manifest: Manifest | null;
}

export function prepareRun(target: CopyTarget, settings: RunOptions): PreparedRun {
  let log: EntryLog | null = null;
  let manifest: Manifest | null = null;
  try {
    log = settings.log === undefined ? null : EntryLog.open(settings.log);
    manifest = settings.manifest === undefined ? null : Manifest.open(settings.manifest);
    if (!settings.worker.dryRun) makeParents(target);
    const destination = rawFromString(target.destination);
    const staging = settings.worker.staged ? stageFirstCopy(destination) : null;
    // What a killed run left may be incomplete: only a check of every entry can tell, whatever the policy.
    const { overwrite } = settings.worker;
    if (staging?.adopted && (overwrite === 'never' || overwrite === 'older')) {
      settings = { ...settings, worker: { ...settings.worker, overwrite: 'changed' } };
    }
    return { settings, writtenTo: staging?.path ?? destination, staging, log, manifest };
  } catch (error) {
    log?.close();
    manifest?.discard();
    throw error;
  }
}

function makeParents(target: CopyTarget): void {
  const parent = path.dirname(target.destination);
  if (target.existingAncestor === target.destination || target.existingAncestor === parent) return;
  try {
    fs.mkdirSync(parent, { recursive: true });
  } catch (error) {
    throw refusal('DESTINATION_INVALID', 'cannot create the destination directory', parent, error);
  }
}

function stageFirstCopy(destination: RawPath): Staging {
  try {
    return stage(destination);
  } catch (error) {
    throw refusal('DESTINATION_INVALID', 'cannot prepare the destination', path.dirname(destination), error);
  }
}
