// Prisma CLI configuration. The CLI runs without native engines: the JS engine with a driver
// adapter (Prisma 6 "experimental" adapter mode), chosen from DATABASE_URL like the server does.
// `relate migrate` applies migrations itself; this serves `prisma generate`, `migrate diff` and
// ad-hoc commands such as `prisma studio`.
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

const url = process.env.DATABASE_URL ?? 'file:./data/relate.db';
const postgres = /^postgres(ql)?:/.test(url);

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: postgres ? 'prisma/postgresql/schema.prisma' : 'prisma/sqlite/schema.prisma',
  async adapter() {
    return postgres ? new PrismaPg({ connectionString: url }) : new PrismaBetterSQLite3({ url });
  },
});
