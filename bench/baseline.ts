/**
 * The physical-limit baseline for Q2 (a list page with association columns): the same answer
 * as Relate's, from ONE hand-written SQL query through the bare driver, served by a minimal
 * HTTP handler with no GraphQL, no auth and no ORM. Run as its own process by bench/run.ts.
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { availableParallelism } from 'node:os';
import Database from 'better-sqlite3';
import pg from 'pg';

const url = process.env.DATABASE_URL!;
const workspaceId = Number(process.env.BENCH_WORKSPACE_ID);

const sql = (p: (i: number) => string) => `
WITH page AS (
  SELECT r."id", r."displayName" FROM "Record" r
  JOIN "Object" o ON o."id" = r."objectId" AND o."key" = 'contact'
  WHERE r."workspaceId" = ${p(1)} ORDER BY r."id" LIMIT 50
), sides AS (
  SELECT a."id", a."labelId", a."firstRecordId" AS rid, a."secondRecordId" AS oid, 1 AS side
    FROM "Association" a WHERE a."firstRecordId" IN (SELECT "id" FROM page)
  UNION ALL
  SELECT a."id", a."labelId", a."secondRecordId", a."firstRecordId", 2
    FROM "Association" a WHERE a."secondRecordId" IN (SELECT "id" FROM page)
), ranked AS (
  SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s.rid ORDER BY s."id") AS rn FROM sides s
)
SELECT p."id", p."displayName", r.rn,
  CASE WHEN r.side = 1 THEN l."secondLabel" ELSE l."firstLabel" END AS "role",
  other."displayName" AS "otherName", ob."key" AS "otherKey"
FROM page p
LEFT JOIN ranked r ON r.rid = p."id" AND r.rn <= 10
LEFT JOIN "AssociationLabel" l ON l."id" = r."labelId"
LEFT JOIN "Record" other ON other."id" = r.oid
LEFT JOIN "Object" ob ON ob."id" = other."objectId"
ORDER BY p."id", r.rn`;

type Row = { id: number; displayName: string; role: string | null; otherName: string | null; otherKey: string | null };

// As many processes as the server under test (RELATE_WORKERS), so the two compare fairly.
const workers = process.env.RELATE_WORKERS === 'auto' ? availableParallelism() : Number(process.env.RELATE_WORKERS ?? 1);
if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i += 1) cluster.fork();
  let announced = false;
  cluster.on('message', (_worker, message: string) => {
    if (!announced) process.stderr.write(message);
    announced = true;
  });
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  serve();
}

function serve() {
  let query: () => Promise<Row[]>;
  if (url.startsWith('file:')) {
    const db = new Database(url.slice('file:'.length), { readonly: true });
    const statement = db.prepare(sql(() => '?'));
    query = async () => statement.all(workspaceId) as Row[];
  } else {
    // Planned like Relate's reader (src/db/reader.ts), so the two differ only in what they run.
    const pool = new pg.Pool({ connectionString: url, max: 10, options: '-c plan_cache_mode=force_generic_plan' });
    const text = sql((i) => `$${i}`);
    query = async () => (await pool.query<Row>({ name: 'q2', text, values: [workspaceId] })).rows;
  }
  const server = createServer(async (req, res) => {
    req.resume();
    const body = JSON.stringify(shape(await query()));
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  server.listen(0, () => {
    const address = server.address();
    const line = `{"url":"http://localhost:${typeof address === 'object' && address ? address.port : 0}/graphql"}\n`;
    if (cluster.isWorker) process.send!(line);
    else process.stderr.write(line);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

function shape(rows: Row[]) {
  const edges: { node: { displayName: string; associations: { edges: unknown[] } } }[] = [];
  let current: (typeof edges)[number] | undefined;
  let currentId = -1;
  for (const row of rows) {
    if (row.id !== currentId) {
      currentId = row.id;
      current = { node: { displayName: row.displayName, associations: { edges: [] } } };
      edges.push(current);
    }
    if (row.role !== null) {
      current!.node.associations.edges.push({
        relatedRole: row.role,
        relatedRecord: { displayName: row.otherName, object: { key: row.otherKey } },
      });
    }
  }
  return { data: { records: { edges } } };
}
