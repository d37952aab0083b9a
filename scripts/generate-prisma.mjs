// Renders the one model source (prisma/models.prisma) into a schema per provider and
// generates a Prisma client for each, plus the Pothos type map. Runs on `npm install`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const providers = ['sqlite', 'postgresql'];

export function renderSchema(provider) {
  const models = readFileSync(join(root, 'prisma/models.prisma'), 'utf8');
  const pothos =
    provider === 'sqlite'
      ? `
generator pothos {
  provider     = "prisma-pothos-types"
  output       = "../../src/db/generated/pothos-types.ts"
  clientOutput = "./sqlite/client.js"
}
`
      : '';
  return `// Generated from prisma/models.prisma by scripts/generate-prisma.mjs: do not edit.

generator client {
  provider            = "prisma-client"
  output              = "../../src/db/generated/${provider}"
  engineType          = "client"
  moduleFormat        = "esm"
  importFileExtension = "js"
}
${pothos}
datasource db {
  provider = "${provider}"
  url      = env("DATABASE_URL")
}

${models}`;
}

function main() {
  for (const provider of providers) {
    const file = join(root, 'prisma', provider, 'schema.prisma');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, renderSchema(provider));
    execFileSync(join(root, 'node_modules/.bin/prisma'), ['generate', '--schema', file], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}`,
        DATABASE_URL: provider === 'sqlite' ? 'file:./unused.db' : 'postgresql://unused/unused',
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
      },
    });
  }
  console.log('relate: Prisma clients generated for', providers.join(' and '));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
