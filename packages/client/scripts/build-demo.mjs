// Builds the demo page into demo/dist (served by the edge under /demo/ when
// DEMO_DIR points there) and measures the SDK alone, minified and gzipped, so
// its size is visible in every build.
import { build } from 'esbuild';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const demo = join(root, 'demo');
const out = join(demo, 'dist');

const browser = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
};

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  ...browser,
  entryPoints: [join(demo, 'src', 'main.ts')],
  outfile: join(out, 'app.js'),
  sourcemap: true,
});
await Promise.all(
  ['index.html', 'style.css'].map((file) => copyFile(join(demo, file), join(out, file))),
);

// The SDK on its own, as an application bundler would include it.
const sdk = await build({
  ...browser,
  entryPoints: [join(root, 'src', 'index.ts')],
  write: false,
  metafile: true,
});
const code = sdk.outputFiles[0].contents;
const nodeBuiltins = Object.keys(sdk.metafile.inputs).filter((input) => input.startsWith('node:'));
if (nodeBuiltins.length > 0) {
  throw new Error(`the browser SDK bundle pulls in Node modules: ${nodeBuiltins.join(', ')}`);
}
const size = {
  entry: 'src/index.ts',
  minifiedBytes: code.byteLength,
  gzippedBytes: gzipSync(code, { level: 9 }).byteLength,
};
await writeFile(join(root, 'bundle-size.json'), `${JSON.stringify(size, null, 2)}\n`);
console.log(
  `@agentwire/client browser bundle: ${(size.minifiedBytes / 1024).toFixed(1)} KiB minified, ` +
    `${(size.gzippedBytes / 1024).toFixed(1)} KiB gzipped`,
);
