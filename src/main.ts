/**
 * The command's entry point. esbuild bundles it with everything it imports,
 * dependencies included, so that starting the CLI reads a few files instead of
 * over a hundred modules; what only some runs need (glob sources, filters, the
 * progress bar) is split into chunks loaded when asked for.
 */
// Node's thread pool runs the calls a run keeps in flight on a network file system (the directories'
// times, the check's lookups: NETWORK_REQUESTS_AT_ONCE, shared/file-systems.ts); its default of 4
// threads would hold them to 4 at once. Threads start only when the pool is first used. Set before
// anything can use it, here and not by importing the constant, which would load a module first;
// a user's own setting wins.
process.env.UV_THREADPOOL_SIZE ??= '16';
await import('./cli/cli.js');
