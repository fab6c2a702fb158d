/**
 * The library's shard option (the command's --shard K/N), checked before
 * anything runs. Apart from shard.ts (the rule, and its MD5) so that checking
 * an option loads nothing a run without --shard does not need.
 */
import { FoldercopyError } from '../shared/errors.js';

/** One shard of N: `index` from 0 to count - 1. */
export interface Shard {
  index: number;
  count: number;
}

/** The library's shard option checked: whole numbers, 0 <= index < count (rclone also takes K >= N as K mod N; a matrix never needs it). */
export function checkShard(value: unknown): Shard {
  const shard = value as Partial<Shard> | null;
  const whole = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n);
  if (typeof shard === 'object' && shard !== null && whole(shard.index) && whole(shard.count) && shard.count >= 1 && shard.index >= 0 && shard.index < shard.count) {
    return { index: shard.index, count: shard.count };
  }
  const got = typeof shard === 'object' && shard !== null ? `{ index: ${String(shard.index)}, count: ${String(shard.count)} }` : JSON.stringify(value) ?? String(value);
  throw new FoldercopyError('USAGE', `the shard option must be { index, count }, whole numbers with 0 <= index < count, got ${got}`);
}
