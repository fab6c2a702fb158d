/**
 * Ctrl-C, SIGTERM and a hangup during a run: the first stops it as the library's
 * signal does (files in flight finish, the lock is released, a staged copy is
 * renamed into place); a second Ctrl-C or SIGTERM leaves at once, saying where a
 * first copy was left under its staging name.
 */
import { EXIT_CODES, stagedCopies } from '../index.js';
import { stagedCopyLine } from './report.js';

/** The signals that stop a run as Ctrl-C does, and the exit code each gives (128 + its number, as a shell reports it). */
export const STOP_SIGNALS = { SIGHUP: EXIT_CODES.hangup, SIGINT: EXIT_CODES.interrupted, SIGTERM: EXIT_CODES.terminated } as const;
export type StopSignal = keyof typeof STOP_SIGNALS;

const STOPPED_BY: Record<StopSignal, string> = { SIGHUP: 'hung up', SIGINT: 'interrupted', SIGTERM: 'terminated' };

export interface SignalWatch {
  /** The first signal received, if any. */
  readonly stoppedBy: StopSignal | undefined;
  /** The run is over: signals are the default's again. */
  release(): void;
}

export interface SignalHandling {
  /** Aborted by the first signal. */
  controller: AbortController;
  /** Says the first signal was heard (not with -q). */
  say: ((line: string) => void) | undefined;
  /** Before leaving at once: stop the bar, flush what stdout was promised. */
  beforeExit: () => void;
}

/** Listens for the stop signals for one run. */
export function watchSignals({ controller, say, beforeExit }: SignalHandling): SignalWatch {
  let stoppedBy: StopSignal | undefined;
  // A closed terminal or a dropped ssh session (SIGHUP) stops the run as SIGTERM does: lock released, staged copy in place.
  const onSignal = (signal: StopSignal): void => {
    // A hangup comes twice (the kernel's and the shell's): only a second Ctrl-C or SIGTERM means "now".
    if (stoppedBy && signal === 'SIGHUP') return;
    if (stoppedBy) {
      // Second signal: leave now. Workers exit on their own when the IPC channel closes.
      beforeExit();
      process.stderr.write('foldercopy: stopped at once\n');
      // A first copy left under its staging name: say where, as the next run will adopt it.
      for (const staging of stagedCopies()) process.stderr.write(`${stagedCopyLine(staging)}\n`);
      process.exit(STOP_SIGNALS[signal]);
    }
    stoppedBy = signal;
    say?.(`foldercopy: ${STOPPED_BY[signal]}; finishing files in flight (Ctrl-C again to quit at once)`);
    controller.abort();
  };
  const signals = Object.keys(STOP_SIGNALS) as StopSignal[];
  for (const signal of signals) process.on(signal, onSignal);
  return {
    get stoppedBy() {
      return stoppedBy;
    },
    release: () => {
      for (const signal of signals) process.off(signal, onSignal);
    },
  };
}
