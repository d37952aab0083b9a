// Compiles src/ into dist/ (same layout, one JavaScript file per TypeScript file, the generated
// Prisma clients included), so that production runs `node dist/server.js` with nothing in between.
// Runs on install, as `npm run build`, and before `npm start` when a source changed since the last
// build; `npm run typecheck` is the type check.
//
// esbuild rather than tsc: it is the transform tsx applies in development and in every test, so
// dist runs exactly the code the tests ran; and it takes about a second, tsc about a minute.
//
// dist sits next to src on purpose: modules find prisma/migrations and schema/ from where they
// are (`../..`), which holds for both. The new output is written beside dist and swapped in, so a
// process starting meanwhile never loads half of one build and half of another.
import { cpSync, existsSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
/** Written last: its time says which sources the build saw. */
const STAMP = '.built';

function* files(folder) {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

/** Whether `dist` was built after the last change under src/ (the generated clients included). */
export function isCurrent(dist = join(root, 'dist')) {
  let built;
  try {
    built = statSync(join(dist, STAMP)).mtimeMs;
  } catch {
    return false;
  }
  for (const file of files(src)) if (statSync(file).mtimeMs > built) return false;
  return true;
}

/** Builds src/ into `outdir` (default dist/); replaces what was there. */
export async function build(outdir = join(root, 'dist')) {
  if (!existsSync(join(src, 'db/generated/sqlite/client.ts'))) {
    throw new Error('the Prisma clients are missing: run `npm run prisma:generate` first');
  }
  const { build: esbuild } = await import('esbuild');
  const started = Date.now();
  const all = [...files(src)];
  const temporary = `${outdir}.${process.pid}.tmp`;
  rmSync(temporary, { recursive: true, force: true });
  await esbuild({
    entryPoints: all.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')),
    outdir: temporary,
    outbase: src,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    // Only read with `node --enable-source-maps`: stack traces then name the TypeScript lines.
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  // Files the code reads at run time (the explorer's page).
  for (const file of all.filter((file) => !file.endsWith('.ts'))) {
    cpSync(file, join(temporary, relative(src, file)));
  }
  // Dated when the build started: a source saved during the build counts as newer.
  writeFileSync(join(temporary, STAMP), '');
  utimesSync(join(temporary, STAMP), new Date(started), new Date(started));
  swapIn(temporary, outdir);
  return { files: all.length, ms: Date.now() - started };
}

function swapIn(temporary, outdir) {
  const old = `${outdir}.${process.pid}.old`;
  rmSync(old, { recursive: true, force: true });
  for (;;) {
    try {
      renameSync(temporary, outdir);
      break;
    } catch (error) {
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      try {
        renameSync(outdir, old);
      } catch (moved) {
        // Another build moved it first: try again.
        if (moved.code !== 'ENOENT') throw moved;
      }
    }
  }
  rmSync(old, { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // --outdir: another folder next to src/ (the tests build one of their own); --if-stale: only
  // when a source changed since that folder was built.
  const { values } = parseArgs({ options: { 'if-stale': { type: 'boolean' }, outdir: { type: 'string' } } });
  const outdir = values.outdir ? resolve(values.outdir) : join(root, 'dist');
  if (!(values['if-stale'] && isCurrent(outdir))) {
    build(outdir).then(
      ({ files, ms }) => console.log(`relate: built ${files} files into ${relative(root, outdir)}/ in ${ms} ms`),
      (error) => {
        console.error(`relate: build failed: ${error.message}`);
        process.exit(1);
      },
    );
  }
}
