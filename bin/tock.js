#!/usr/bin/env node
// Runs the compiled CLI (built by `npm install` / `npm run build`); nothing is compiled at run time.
try {
  await import('../dist/src/cli/main.js');
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli/main.js')) {
    process.stderr.write('tock: not built yet; run `npm install` (or `npm run build`) in the tock directory\n');
    process.exit(1);
  }
  throw err;
}
