/**
 * Builds the browser tag: tag/src (TypeScript, type-checked before by `tsc -p tag/tsconfig.json`)
 * → tag/build/tag.js (and manifest.json: its version), one minified IIFE for browsers of the last years (ES2018). The server
 * reads that file (src/collect/routes/tag.ts); the size budget is checked by a test.
 *
 *   node scripts/build-tag.mjs
 */
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = `${root}tag/build/tag.js`;
await build({
  entryPoints: [`${root}tag/src/index.ts`],
  outfile, bundle: true, minify: true, format: 'iife', target: 'es2018', legalComments: 'none', logLevel: 'warning',
});
const code = readFileSync(outfile);
// The server swaps this placeholder for the source's settings: it must survive minification once.
const placeholders = code.toString().split('%%ENSEMBLE_SETTINGS%%').length - 1;
if (placeholders !== 1) throw new Error(`tag.js must hold the settings placeholder once, found ${placeholders}`);
// The server names the version in the immutable URL /tag/<version>/tag.js.
const version = /TAG_VERSION = '([^']+)'/.exec(readFileSync(`${root}tag/src/version.ts`, 'utf8'))?.[1];
if (!version) throw new Error('tag/src/version.ts must export TAG_VERSION');
writeFileSync(`${root}tag/build/manifest.json`, `${JSON.stringify({ version, file: 'tag.js' })}\n`);
console.log(`tag/build/tag.js: ${code.length} bytes, ${gzipSync(code, { level: 9 }).length} gzipped`);
