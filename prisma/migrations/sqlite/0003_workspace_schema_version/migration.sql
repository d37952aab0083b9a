-- AlterTable (written by hand: SQLite adds a NOT NULL column with a constant default in place,
-- where the generated table rebuild would drop "Workspace" and cascade to every row)
ALTER TABLE "Workspace" ADD COLUMN "schemaVersion" INTEGER NOT NULL DEFAULT 0;
