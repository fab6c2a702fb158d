/**
 * The command's entry point (bin/foldercopy.js loads it, having sized Node's thread
 * pool). esbuild bundles it with everything it imports, dependencies included, so
 * that starting the CLI reads a few files instead of over a hundred modules; what
 * only some runs need (glob sources, filters, the progress bar) is split into chunks
 * loaded when asked for.
 */
await import('./cli/cli.js');
