// Bundles the console: src/main.jsx and its imports into ../dist/app.js and
// ../dist/app.css, index.html copied beside them. Output names are fixed (no
// content hashes): the Go handler serves them with an ETag of their content,
// and the committed dist/ must be byte-for-byte what this script writes from
// the same sources and package-lock.json (scripts/console-build.sh --check).
//
//   node build.mjs            build once, minified
//   node build.mjs --outdir D build into D instead of ../dist
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const i = args.indexOf('--outdir');
const outdir = i >= 0 ? resolve(args[i + 1]) : join(here, '..', 'dist');

mkdirSync(outdir, { recursive: true });
await esbuild.build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.jsx' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome115', 'firefox115'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir,
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
});
copyFileSync(join(here, 'index.html'), join(outdir, 'index.html'));
