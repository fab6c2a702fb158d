/**
 * The command's entry point. esbuild bundles it with everything it imports,
 * dependencies included, so that starting the CLI reads one file instead of
 * over a hundred modules. Booting a worker takes about as long as loading the
 * CLI: the first one is forked before cli/ and its dependencies are set up,
 * which the bundle does only at the dynamic import below.
 */
import { forkEarlyWorker } from './pool/worker-process.js';

const args = process.argv.slice(2);
if (args.length > 0 && !args.some((arg) => /^(-h|--help|-V|--version)$/.test(arg))) forkEarlyWorker();
await import('./cli/cli.js');
