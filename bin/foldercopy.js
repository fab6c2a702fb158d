#!/usr/bin/env node
// Booting a worker takes about as long as loading the CLI: start the first one now.
import { forkEarlyWorker } from '../dist/pool.js';

const args = process.argv.slice(2);
if (args.length > 0 && !args.some((arg) => /^(-h|--help|-V|--version)$/.test(arg))) forkEarlyWorker();
await import('../dist/cli.js');
