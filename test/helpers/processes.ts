// Linux only: these helpers read /proc, which is where the tests run.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

interface ProcStat {
  state: string;
  ppid: number;
  pgrp: number;
}

/** null once the process is gone (it can go between listing /proc and reading it). */
function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ")".
  const [state, ppid, pgrp] = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return state === undefined || ppid === undefined || pgrp === undefined ? null : { state, ppid: Number(ppid), pgrp: Number(pgrp) };
}

/**
 * All descendants of `pid` (children, grandchildren, ...), from the parent links in /proc/<pid>/stat.
 * A process whose parent has exited is re-parented (to init or a subreaper) and is no longer listed,
 * so sample while the parent runs.
 */
export function listDescendants(pid: number): number[] {
  const childrenOf = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat !== null) childrenOf.set(stat.ppid, [...(childrenOf.get(stat.ppid) ?? []), Number(name)]);
  }
  const descendants: number[] = [];
  const pending = [pid];
  for (let parent = pending.pop(); parent !== undefined; parent = pending.pop()) {
    const children = childrenOf.get(parent) ?? [];
    descendants.push(...children);
    pending.push(...children);
  }
  return descendants.sort((a, b) => a - b);
}

/**
 * A zombie counts as dead: it runs no code, and in a container whose init does not reap
 * orphans it would otherwise look alive forever.
 */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X';
}

/** The process group of `pid` (what kill(-group) reaches); null once it is gone. */
export function processGroupOf(pid: number): number | null {
  return readStat(pid)?.pgrp ?? null;
}

/**
 * Live processes whose environment holds `NAME=value` (each of them, when several are given): how a
 * test finds the processes of one run after it has left them.
 */
export function processesWithEnv(...assignments: readonly string[]): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${name}/environ`, 'latin1');
    } catch {
      continue;
    }
    const variables = environ.split('\0');
    if (assignments.every((assignment) => variables.includes(assignment)) && isAlive(Number(name))) found.push(Number(name));
  }
  return found;
}

/** The command line of a process, for messages; null once it is gone. */
export function processCommandLine(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return null;
  }
}

/** Waits until none of `pids` is alive; returns those still alive at the timeout (empty: all exited). */
export async function waitForExit(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter(isAlive);
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await sleep(25);
  }
}

/** What a run's lock file holds for the process `pid` (its pid, start time and user): a lock a live run holds. */
export function lockContent(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return `${pid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]} ${statSync(`/proc/${pid}`).uid}\n`;
}
