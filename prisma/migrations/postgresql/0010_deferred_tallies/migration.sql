-- CreateTable
CREATE TABLE "TallyDeferral" (
    "workspaceId" INTEGER NOT NULL,

    CONSTRAINT "TallyDeferral_pkey" PRIMARY KEY ("workspaceId")
);

-- Written by hand from here on: the usage tallies of new associations, counted by a function that
-- the insert trigger calls for its statement's rows, and that an import calls once for all of its
-- rows.
--
-- A tally row updated many times in one transaction keeps every version until the transaction
-- ends (PostgreSQL can prune none of them while it runs), and each version has an entry in every
-- index of its table. An import of 1,000,000 links in one transaction wrote a contact's
-- "ContactTally" row once per batch it appeared in (8 times in the benchmark), so reading and
-- updating the tallies walked ever longer chains: 190 of its 412 seconds. An import's transaction
-- therefore inserts its workspace into "TallyDeferral": the trigger then counts nothing for that
-- workspace, the import decides its limits from the tallies plus what it wrote
-- (src/services/deferred-tallies.ts), and before it commits it deletes the row and calls
-- "association_tally_add" with the ids of every association it created: each tally row is written
-- once, as by one statement.
--
-- The ids come as runs (`firsts[i]` to `lasts[i]`, every id between them one of the associations
-- to count): an import's are mostly consecutive, so a million of them are a few numbers.
CREATE FUNCTION "association_tally_add"(firsts integer[], lasts integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- More for each record under its label (side 0 for a SINGLE label on one object).
  WITH inserted AS MATERIALIZED (
    SELECT a."labelId", a."firstRecordId", a."secondRecordId", a."workspaceId"
    FROM unnest(firsts, lasts) AS k("first", "last") JOIN "Association" a ON a."id" BETWEEN k."first" AND k."last"
  )
  INSERT INTO "RecordLabelTally" ("labelId", "recordId", "side", "associations")
  SELECT s."labelId", s."recordId", s."side", COUNT(*) FROM (
    SELECT a."labelId", a."firstRecordId" AS "recordId",
           CASE WHEN l."type" = 'SINGLE' AND l."firstObjectId" = l."secondObjectId" THEN 0 ELSE 1 END AS "side"
    FROM inserted a JOIN "AssociationLabel" l ON l."id" = a."labelId"
    UNION ALL
    SELECT a."labelId", a."secondRecordId",
           CASE WHEN l."type" = 'SINGLE' AND l."firstObjectId" = l."secondObjectId" THEN 0 ELSE 2 END
    FROM inserted a JOIN "AssociationLabel" l ON l."id" = a."labelId"
  ) s
  GROUP BY s."labelId", s."recordId", s."side"
  ON CONFLICT ("labelId", "recordId", "side")
    DO UPDATE SET "associations" = "RecordLabelTally"."associations" + EXCLUDED."associations";

  -- A record whose tally under the label is all these rows added has just joined the label.
  WITH inserted AS MATERIALIZED (
    SELECT a."labelId", a."firstRecordId", a."secondRecordId"
    FROM unnest(firsts, lasts) AS k("first", "last") JOIN "Association" a ON a."id" BETWEEN k."first" AND k."last"
  )
  INSERT INTO "LabelTally" ("labelId", "records")
  SELECT added."labelId", COUNT(*) FROM (
    SELECT r."labelId", r."recordId", COUNT(*) AS n FROM (
      SELECT "labelId", "firstRecordId" AS "recordId" FROM inserted
      UNION ALL
      SELECT "labelId", "secondRecordId" FROM inserted
    ) r
    GROUP BY r."labelId", r."recordId"
  ) added
  WHERE (SELECT SUM(t."associations") FROM "RecordLabelTally" t
         WHERE t."labelId" = added."labelId" AND t."recordId" = added."recordId") = added.n
  GROUP BY added."labelId"
  ON CONFLICT ("labelId") DO UPDATE SET "records" = "LabelTally"."records" + EXCLUDED."records";

  -- Both records of a contact↔contact label count more contact associations.
  WITH inserted AS MATERIALIZED (
    SELECT a."labelId", a."firstRecordId", a."secondRecordId", a."workspaceId"
    FROM unnest(firsts, lasts) AS k("first", "last") JOIN "Association" a ON a."id" BETWEEN k."first" AND k."last"
  )
  INSERT INTO "ContactTally" ("recordId", "workspaceId", "associations")
  SELECT r."recordId", r."workspaceId", COUNT(*) FROM (
    SELECT "firstRecordId" AS "recordId", "workspaceId", "labelId" FROM inserted
    UNION ALL
    SELECT "secondRecordId", "workspaceId", "labelId" FROM inserted
  ) r
  JOIN "AssociationLabel" l ON l."id" = r."labelId"
  JOIN "Object" o ON o."id" = l."firstObjectId"
  WHERE l."secondObjectId" = l."firstObjectId" AND o."key" = 'contact'
  GROUP BY r."recordId", r."workspaceId"
  ON CONFLICT ("recordId") DO UPDATE SET "associations" = "ContactTally"."associations" + EXCLUDED."associations";
END
$$;

-- A statement inserts the associations of one workspace (links are written per workspace).
CREATE OR REPLACE FUNCTION "association_tally_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids integer[];
BEGIN
  IF EXISTS (SELECT 1 FROM "TallyDeferral" d WHERE d."workspaceId" = (SELECT i."workspaceId" FROM inserted i LIMIT 1)) THEN
    RETURN NULL;
  END IF;
  ids := ARRAY(SELECT "id" FROM inserted);
  PERFORM "association_tally_add"(ids, ids);
  RETURN NULL;
END
$$;
