/**
 * The command's entry point, bundled (with its dependencies) by esbuild so
 * that starting the CLI reads a few files instead of a hundred modules.
 * Booting a worker takes about as long as loading the CLI: the first one is
 * forked before the CLI is even loaded (cli.js is a chunk of its own).
 */
import { forkEarlyWorker } from './pool.js';

const args = process.argv.slice(2);
if (args.length > 0 && !args.some((arg) => /^(-h|--help|-V|--version)$/.test(arg))) forkEarlyWorker();
await import('./cli.js');
