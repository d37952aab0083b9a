import { providerOf, type Provider } from '../config.js';
import { createPrismaClient, type Db } from './client.js';
import { migrate } from './migrate.js';
import { openReader, type Reader } from './reader.js';

export type { Db, Tx } from './client.js';
export { Prisma } from './client.js';

/**
 * The process's database. Set once by `openDatabase`; modules import `prisma` (a live binding)
 * rather than carrying the client through the GraphQL context.
 */
export let prisma: Db;
export let provider: Provider;
/** Bare-driver reads for the hot path (see reader.ts). */
export let reader: Reader;

export async function openDatabase(url: string, options: { migrate?: boolean; poolSize?: number } = {}) {
  if (options.migrate ?? true) await migrate(url);
  provider = providerOf(url);
  prisma = createPrismaClient(url, options);
  await prisma.$connect();
  reader = openReader(provider, url, options.poolSize ?? 10);
  return prisma;
}

export async function closeDatabase(): Promise<void> {
  await prisma?.$disconnect();
  await reader?.close();
}
