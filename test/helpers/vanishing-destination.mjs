// Preloaded into the CLI (NODE_OPTIONS=--import=…) to make a destination vanish between two checks,
// as on a network mount whose attribute cache says a directory is there after it was removed.
//   FOLDERCOPY_TEST_VANISH=<path>:<n>   removes <path> (a directory, with what is in it) right after the
//                                       n-th check of it (stat, lstat, exists, access, realpath, readdir,
//                                       statfs), under the name given or its absolute form
// Only the parent sees it: workers do not inherit NODE_OPTIONS.
import fs from 'node:fs';
import path from 'node:path';

const [target, nth] = (process.env.FOLDERCOPY_TEST_VANISH ?? '').split(':');
if (target) {
  const names = new Set([target, path.resolve(target)]);
  let seen = 0;
  for (const name of ['statSync', 'lstatSync', 'existsSync', 'accessSync', 'realpathSync', 'readdirSync', 'statfsSync']) {
    const check = fs[name];
    fs[name] = function (where, ...rest) {
      try {
        return check.call(this, where, ...rest);
      } finally {
        if (names.has(String(where)) && ++seen === Number(nth)) fs.rmSync(target, { recursive: true, force: true });
      }
    };
  }
}
