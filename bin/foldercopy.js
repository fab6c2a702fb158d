#!/usr/bin/env node
// CommonJS (bin/package.json), so that this runs before Node's ES module loader reads a
// file: the loader reads through the thread pool, which starts then with the size the
// environment gives, and a setting made any later is ignored. The pool runs the calls a
// run keeps in flight on a network file system (the directories' times, the check's
// lookups: NETWORK_REQUESTS_AT_ONCE, src/shared/file-systems.ts); its default of 4
// threads would hold them to 4 at once. A user's own setting wins.
process.env.UV_THREADPOOL_SIZE ??= '16';
import('../dist/main.js');
