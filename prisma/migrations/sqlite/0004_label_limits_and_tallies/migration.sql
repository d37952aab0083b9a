-- AlterTable
ALTER TABLE "AssociationLabel" ADD COLUMN "maxFirstPerSecond" INTEGER;
ALTER TABLE "AssociationLabel" ADD COLUMN "maxSecondPerFirst" INTEGER;

-- CreateTable
CREATE TABLE "RecordLabelTally" (
    "labelId" INTEGER NOT NULL,
    "recordId" INTEGER NOT NULL,
    "side" INTEGER NOT NULL,
    "associations" INTEGER NOT NULL,

    PRIMARY KEY ("labelId", "recordId", "side"),
    CONSTRAINT "RecordLabelTally_labelId_fkey" FOREIGN KEY ("labelId") REFERENCES "AssociationLabel" ("id") ON DELETE CASCADE ON UPDATE CASCADE
) WITHOUT ROWID; -- (by hand) the primary key is the table: a record's rows are read from it, never from the usage index

-- CreateTable
CREATE TABLE "LabelTally" (
    "labelId" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "records" INTEGER NOT NULL,
    CONSTRAINT "LabelTally_labelId_fkey" FOREIGN KEY ("labelId") REFERENCES "AssociationLabel" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ContactTally" (
    "recordId" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "workspaceId" INTEGER NOT NULL,
    "associations" INTEGER NOT NULL,
    CONSTRAINT "ContactTally_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "RecordLabelTally_labelId_side_associations_recordId_idx" ON "RecordLabelTally"("labelId", "side", "associations" DESC, "recordId");

-- CreateIndex
CREATE INDEX "ContactTally_workspaceId_associations_recordId_idx" ON "ContactTally"("workspaceId", "associations" DESC, "recordId");


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

-- A record joins or leaves a label when it has no other association under it: that is looked up
-- in the association indexes. Lookups of a record's tally rows name all three primary-key
-- columns (side IN ...), so that they read the primary key rather than scan the usage index.

-- A new association: one more for each of its records under its label (side 0 for a SINGLE
-- label on one object); a record with no other association under the label has just joined it.
CREATE TRIGGER "Association_tally_insert" AFTER INSERT ON "Association"
BEGIN
  INSERT INTO "RecordLabelTally" ("labelId", "recordId", "side", "associations")
    SELECT NEW."labelId", NEW."firstRecordId",
           CASE WHEN l."type" = 'SINGLE' AND l."firstObjectId" = l."secondObjectId" THEN 0 ELSE 1 END, 1
    FROM "AssociationLabel" l WHERE l."id" = NEW."labelId"
    ON CONFLICT ("labelId", "recordId", "side") DO UPDATE SET "associations" = "associations" + 1;
  INSERT INTO "RecordLabelTally" ("labelId", "recordId", "side", "associations")
    SELECT NEW."labelId", NEW."secondRecordId",
           CASE WHEN l."type" = 'SINGLE' AND l."firstObjectId" = l."secondObjectId" THEN 0 ELSE 2 END, 1
    FROM "AssociationLabel" l WHERE l."id" = NEW."labelId"
    ON CONFLICT ("labelId", "recordId", "side") DO UPDATE SET "associations" = "associations" + 1;
  INSERT INTO "LabelTally" ("labelId", "records")
    SELECT NEW."labelId", j."joined" FROM (
      SELECT (NOT EXISTS (SELECT 1 FROM "Association" a WHERE a."labelId" = NEW."labelId" AND a."firstRecordId" = NEW."firstRecordId" AND a."id" <> NEW."id")
              AND NOT EXISTS (SELECT 1 FROM "Association" a WHERE a."labelId" = NEW."labelId" AND a."secondRecordId" = NEW."firstRecordId" AND a."id" <> NEW."id"))
           + (NOT EXISTS (SELECT 1 FROM "Association" a WHERE a."labelId" = NEW."labelId" AND a."firstRecordId" = NEW."secondRecordId" AND a."id" <> NEW."id")
              AND NOT EXISTS (SELECT 1 FROM "Association" a WHERE a."labelId" = NEW."labelId" AND a."secondRecordId" = NEW."secondRecordId" AND a."id" <> NEW."id"))
             AS "joined"
    ) j WHERE j."joined" > 0
    ON CONFLICT ("labelId") DO UPDATE SET "records" = "records" + excluded."records";
END;

-- A removed association: the same, backwards; rows that reach 0 go. The sides are found without
-- the label (a record has side 0 rows under a SINGLE label on one object, 1 or 2 otherwise), so
-- the tallies stay right even while the label itself is being deleted.
CREATE TRIGGER "Association_tally_delete" AFTER DELETE ON "Association"
BEGIN
  UPDATE "RecordLabelTally" SET "associations" = "associations" - 1
    WHERE "labelId" = OLD."labelId" AND "recordId" = OLD."firstRecordId" AND "side" IN (0, 1);
  UPDATE "RecordLabelTally" SET "associations" = "associations" - 1
    WHERE "labelId" = OLD."labelId" AND "recordId" = OLD."secondRecordId" AND "side" IN (0, 2);
  DELETE FROM "RecordLabelTally"
    WHERE "labelId" = OLD."labelId" AND "recordId" IN (OLD."firstRecordId", OLD."secondRecordId") AND "side" IN (0, 1, 2)
      AND +"associations" <= 0;
  UPDATE "LabelTally" SET "records" = "records"
      - (NOT EXISTS (SELECT 1 FROM "Association" a WHERE a."labelId" = OLD."labelId" AND a."firstRecordId" = OLD."firstRecordId")
         AND NOT EXISTS (SELECT 1 FROM "Association" a WHERE a."labelId" = OLD."labelId" AND a."secondRecordId" = OLD."firstRecordId"))
      - (NOT EXISTS (SELECT 1 FROM "Association" a WHERE a."labelId" = OLD."labelId" AND a."firstRecordId" = OLD."secondRecordId")
         AND NOT EXISTS (SELECT 1 FROM "Association" a WHERE a."labelId" = OLD."labelId" AND a."secondRecordId" = OLD."secondRecordId"))
    WHERE "labelId" = OLD."labelId";
END;

-- Contact associations, in triggers of their own that run only for contact↔contact labels (a
-- WHEN clause is much cheaper here than the same test inside each statement).
CREATE TRIGGER "Association_contact_tally_insert" AFTER INSERT ON "Association"
WHEN EXISTS (
  SELECT 1 FROM "AssociationLabel" l JOIN "Object" o ON o."id" = l."firstObjectId"
  WHERE l."id" = NEW."labelId" AND l."secondObjectId" = l."firstObjectId" AND o."key" = 'contact'
)
BEGIN
  INSERT INTO "ContactTally" ("recordId", "workspaceId", "associations")
    SELECT r."id", NEW."workspaceId", 1 FROM (SELECT NEW."firstRecordId" AS "id" UNION ALL SELECT NEW."secondRecordId") r WHERE true
    ON CONFLICT ("recordId") DO UPDATE SET "associations" = "associations" + 1;
END;

CREATE TRIGGER "Association_contact_tally_delete" AFTER DELETE ON "Association"
WHEN EXISTS (
  SELECT 1 FROM "AssociationLabel" l JOIN "Object" o ON o."id" = l."firstObjectId"
  WHERE l."id" = OLD."labelId" AND l."secondObjectId" = l."firstObjectId" AND o."key" = 'contact'
)
BEGIN
  UPDATE "ContactTally" SET "associations" = "associations" - 1 WHERE "recordId" IN (OLD."firstRecordId", OLD."secondRecordId");
  DELETE FROM "ContactTally" WHERE "recordId" IN (OLD."firstRecordId", OLD."secondRecordId") AND "associations" <= 0;
END;
