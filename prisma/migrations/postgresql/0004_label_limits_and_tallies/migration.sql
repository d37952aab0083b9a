-- AlterTable
ALTER TABLE "AssociationLabel" ADD COLUMN     "maxFirstPerSecond" INTEGER,
ADD COLUMN     "maxSecondPerFirst" INTEGER;

-- CreateTable
CREATE TABLE "RecordLabelTally" (
    "labelId" INTEGER NOT NULL,
    "recordId" INTEGER NOT NULL,
    "side" INTEGER NOT NULL,
    "associations" INTEGER NOT NULL,

    CONSTRAINT "RecordLabelTally_pkey" PRIMARY KEY ("labelId","recordId","side")
);

-- CreateTable
CREATE TABLE "LabelTally" (
    "labelId" INTEGER NOT NULL,
    "records" INTEGER NOT NULL,

    CONSTRAINT "LabelTally_pkey" PRIMARY KEY ("labelId")
);

-- CreateTable
CREATE TABLE "ContactTally" (
    "recordId" INTEGER NOT NULL,
    "workspaceId" INTEGER NOT NULL,
    "associations" INTEGER NOT NULL,

    CONSTRAINT "ContactTally_pkey" PRIMARY KEY ("recordId")
);

-- CreateIndex
CREATE INDEX "RecordLabelTally_labelId_side_associations_recordId_idx" ON "RecordLabelTally"("labelId", "side", "associations" DESC, "recordId");

-- CreateIndex
CREATE INDEX "ContactTally_workspaceId_associations_recordId_idx" ON "ContactTally"("workspaceId", "associations" DESC, "recordId");

-- AddForeignKey
ALTER TABLE "RecordLabelTally" ADD CONSTRAINT "RecordLabelTally_labelId_fkey" FOREIGN KEY ("labelId") REFERENCES "AssociationLabel"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LabelTally" ADD CONSTRAINT "LabelTally_labelId_fkey" FOREIGN KEY ("labelId") REFERENCES "AssociationLabel"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContactTally" ADD CONSTRAINT "ContactTally_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Written by hand from here on: the usage tallies' contents and the triggers that keep them.

-- Backfill: the tallies of the associations already stored.
INSERT INTO "RecordLabelTally" ("labelId", "recordId", "side", "associations")
SELECT s."labelId", s."recordId", s."side", COUNT(*) FROM (
  SELECT a."labelId", a."firstRecordId" AS "recordId",
         CASE WHEN l."type" = 'SINGLE' AND l."firstObjectId" = l."secondObjectId" THEN 0 ELSE 1 END AS "side"
  FROM "Association" a JOIN "AssociationLabel" l ON l."id" = a."labelId"
  UNION ALL
  SELECT a."labelId", a."secondRecordId",
         CASE WHEN l."type" = 'SINGLE' AND l."firstObjectId" = l."secondObjectId" THEN 0 ELSE 2 END
  FROM "Association" a JOIN "AssociationLabel" l ON l."id" = a."labelId"
) s
GROUP BY s."labelId", s."recordId", s."side";

INSERT INTO "LabelTally" ("labelId", "records")
SELECT "labelId", COUNT(DISTINCT "recordId") FROM "RecordLabelTally" GROUP BY "labelId";

INSERT INTO "ContactTally" ("recordId", "workspaceId", "associations")
SELECT s."recordId", s."workspaceId", COUNT(*) FROM (
  SELECT a."firstRecordId" AS "recordId", a."workspaceId" FROM "Association" a
    JOIN "AssociationLabel" l ON l."id" = a."labelId" JOIN "Object" o ON o."id" = l."firstObjectId"
    WHERE l."secondObjectId" = l."firstObjectId" AND o."key" = 'contact'
  UNION ALL
  SELECT a."secondRecordId", a."workspaceId" FROM "Association" a
    JOIN "AssociationLabel" l ON l."id" = a."labelId" JOIN "Object" o ON o."id" = l."firstObjectId"
    WHERE l."secondObjectId" = l."firstObjectId" AND o."key" = 'contact'
) s
GROUP BY s."recordId", s."workspaceId";

-- New associations (once per statement, so a bulk insert updates each tally row once): more
-- for each of their records under their label (side 0 for a SINGLE label on one object); a
-- record whose tally under the label is all this statement added has just joined the label;
-- both records of a contact↔contact label count more contact associations.
CREATE FUNCTION "association_tally_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
  RETURN NULL;
END
$$;

CREATE TRIGGER "Association_tally_insert" AFTER INSERT ON "Association"
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION "association_tally_insert"();

-- Removed associations: the same, backwards; rows that reach 0 go. The sides are found without
-- the label (a record has side 0 rows under a SINGLE label on one object, 1 or 2 otherwise), so
-- the tallies stay right even while the label itself is being deleted.
CREATE FUNCTION "association_tally_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH removed AS (
    SELECT r."labelId", r."recordId", r."side", COUNT(*) AS "n" FROM (
      SELECT "labelId", "firstRecordId" AS "recordId", 1 AS "side" FROM deleted
      UNION ALL
      SELECT "labelId", "secondRecordId", 2 FROM deleted
    ) r
    GROUP BY r."labelId", r."recordId", r."side"
  )
  UPDATE "RecordLabelTally" t SET "associations" = t."associations" - x."n"
  FROM (
    SELECT r."labelId", r."recordId", r."side", SUM(d."n") AS "n" FROM removed d
    JOIN "RecordLabelTally" r ON r."labelId" = d."labelId" AND r."recordId" = d."recordId" AND r."side" IN (0, d."side")
    GROUP BY r."labelId", r."recordId", r."side"
  ) x
  WHERE t."labelId" = x."labelId" AND t."recordId" = x."recordId" AND t."side" = x."side";

  DELETE FROM "RecordLabelTally" t
  WHERE (t."labelId", t."recordId") IN (
    SELECT "labelId", "firstRecordId" FROM deleted UNION SELECT "labelId", "secondRecordId" FROM deleted
  ) AND t."associations" <= 0;

  UPDATE "LabelTally" lt SET "records" = lt."records" - gone."records"
  FROM (
    SELECT d."labelId", COUNT(*) AS "records" FROM (
      SELECT "labelId", "firstRecordId" AS "recordId" FROM deleted UNION SELECT "labelId", "secondRecordId" FROM deleted
    ) d
    WHERE NOT EXISTS (SELECT 1 FROM "RecordLabelTally" t WHERE t."labelId" = d."labelId" AND t."recordId" = d."recordId")
    GROUP BY d."labelId"
  ) gone
  WHERE lt."labelId" = gone."labelId";

  UPDATE "ContactTally" c SET "associations" = c."associations" - x."n"
  FROM (
    SELECT r."recordId", COUNT(*) AS "n" FROM (
      SELECT "firstRecordId" AS "recordId", "labelId" FROM deleted
      UNION ALL
      SELECT "secondRecordId", "labelId" FROM deleted
    ) r
    JOIN "AssociationLabel" l ON l."id" = r."labelId"
    JOIN "Object" o ON o."id" = l."firstObjectId"
    WHERE l."secondObjectId" = l."firstObjectId" AND o."key" = 'contact'
    GROUP BY r."recordId"
  ) x
  WHERE c."recordId" = x."recordId";
  DELETE FROM "ContactTally" c
  WHERE c."recordId" IN (SELECT "firstRecordId" FROM deleted UNION SELECT "secondRecordId" FROM deleted) AND c."associations" <= 0;
  RETURN NULL;
END
$$;

CREATE TRIGGER "Association_tally_delete" AFTER DELETE ON "Association"
  REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION "association_tally_delete"();
