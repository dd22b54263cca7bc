#!/usr/bin/env node
// Runs the CLI bundled by `npm install` / `npm run build` (dist/tock.cjs); nothing is
// compiled at run time. This file and the bundle are CommonJS (see bin/package.json):
// Node 20 starts a CommonJS program without loading its ES module loader, which is most
// of what `tock list` would otherwise spend beyond Node's own start-up (bench/RESULTS.md).
'use strict';
const path = require('node:path');

const bundle = path.join(__dirname, '..', 'dist', 'tock.cjs');

function notBuilt() {
  process.stderr.write('tock: the program is not built, or its build is incomplete; run `npm install` (or `npm run build`) in the tock directory\n');
  process.exit(1);
}

let bundled;
try {
  bundled = require(bundle);
} catch (err) {
  // Missing, or cut short mid-statement by a build running at this moment.
  if ((err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(bundle)) || err instanceof SyntaxError) notBuilt();
  throw err;
}
let main;
try {
  // Cut short between two statements, it loads without its entry point: its export is
  // then undefined, or refers to a name never declared.
  main = bundled.main;
} catch (err) {
  if (err instanceof ReferenceError) notBuilt();
  throw err;
}
if (typeof main !== 'function') notBuilt();
main(process.argv);
