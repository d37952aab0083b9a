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

/**
 * The best single statement we know for the page: 50 contacts, and for each the first 10
 * associations by id over both sides, each side read from its covering index and cut at 10
 * (LATERAL on PostgreSQL, a correlated `IN (… LIMIT 10)` on SQLite), with the related record,
 * its object and the role name joined in.
 */
const PAGE = `SELECT r."id", r."displayName" FROM "Record" r
  JOIN "Object" o ON o."id" = r."objectId" AND o."key" = 'contact'
  WHERE r."workspaceId" = $1 ORDER BY r."id" LIMIT 50`;
const SELECT = `SELECT p."id", p."displayName",
  CASE WHEN s.side = 1 THEN l."secondLabel" ELSE l."firstLabel" END AS "role",
  other."displayName" AS "otherName", ob."key" AS "otherKey"`;
const JOINS = `LEFT JOIN "AssociationLabel" l ON l."id" = s."labelId"
  LEFT JOIN "Record" other ON other."id" = s.oid
  LEFT JOIN "Object" ob ON ob."id" = other."objectId"
  ORDER BY p."id", s."id"`;

const POSTGRESQL = `WITH page AS (${PAGE})
${SELECT}
FROM page p
LEFT JOIN LATERAL (
  (SELECT b."id", b."labelId", b."secondRecordId" AS oid, 1 AS side FROM "Association" b
    WHERE b."firstRecordId" = p."id" ORDER BY b."id" LIMIT 10)
  UNION ALL
  (SELECT b."id", b."labelId", b."firstRecordId", 2 FROM "Association" b
    WHERE b."secondRecordId" = p."id" ORDER BY b."id" LIMIT 10)
  ORDER BY "id" LIMIT 10
) s ON true
${JOINS}`;

const SQLITE = `WITH page AS (${PAGE.replace('$1', '?')}),
sides AS (
  SELECT p."id" AS rid, a."id", a."labelId", a."secondRecordId" AS oid, 1 AS side FROM page p
    JOIN "Association" a ON a."id" IN (SELECT b."id" FROM "Association" b WHERE b."firstRecordId" = p."id" ORDER BY b."id" LIMIT 10)
  UNION ALL
  SELECT p."id", a."id", a."labelId", a."firstRecordId", 2 FROM page p
    JOIN "Association" a ON a."id" IN (SELECT b."id" FROM "Association" b WHERE b."secondRecordId" = p."id" ORDER BY b."id" LIMIT 10)
), ranked AS (
  SELECT sides.*, ROW_NUMBER() OVER (PARTITION BY rid ORDER BY "id") AS rn FROM sides
)
${SELECT}
FROM page p
LEFT JOIN ranked s ON s.rid = p."id" AND s.rn <= 10
${JOINS}`;

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
    const statement = db.prepare(SQLITE);
    query = async () => statement.all(workspaceId) as Row[];
  } else {
    // Planned like Relate's reader (src/db/reader.ts), so the two differ only in what they run.
    const pool = new pg.Pool({ connectionString: url, max: 10, options: '-c plan_cache_mode=force_generic_plan' });
    query = async () => (await pool.query<Row>({ name: 'q2', text: POSTGRESQL, values: [workspaceId] })).rows;
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
