-- CreateTable
CREATE TABLE "TallyDeferral" (
    "workspaceId" INTEGER NOT NULL PRIMARY KEY
);

-- Written by hand from here on: the insert triggers of the usage tallies leave alone the
-- associations of a workspace in "TallyDeferral". An import's transaction puts its workspace
-- there, decides its limits from the tallies plus what it wrote, and before it commits deletes
-- the row and counts all of its links in with one statement per tally table
-- (src/services/deferred-tallies.ts), where these triggers would run their statements (and the
-- LabelTally one's four lookups) once per row: most of an import's time on SQLite.
DROP TRIGGER "Association_tally_insert";
CREATE TRIGGER "Association_tally_insert" AFTER INSERT ON "Association"
WHEN NOT EXISTS (SELECT 1 FROM "TallyDeferral" d WHERE d."workspaceId" = NEW."workspaceId")
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

DROP TRIGGER "Association_contact_tally_insert";
CREATE TRIGGER "Association_contact_tally_insert" AFTER INSERT ON "Association"
WHEN EXISTS (
  SELECT 1 FROM "AssociationLabel" l JOIN "Object" o ON o."id" = l."firstObjectId"
  WHERE l."id" = NEW."labelId" AND l."secondObjectId" = l."firstObjectId" AND o."key" = 'contact'
) AND NOT EXISTS (SELECT 1 FROM "TallyDeferral" d WHERE d."workspaceId" = NEW."workspaceId")
BEGIN
  INSERT INTO "ContactTally" ("recordId", "workspaceId", "associations")
    SELECT r."id", NEW."workspaceId", 1 FROM (SELECT NEW."firstRecordId" AS "id" UNION ALL SELECT NEW."secondRecordId") r WHERE true
    ON CONFLICT ("recordId") DO UPDATE SET "associations" = "associations" + 1;
END;
