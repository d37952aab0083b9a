-- AlterTable
ALTER TABLE "Workspace" ADD COLUMN     "schemaVersion" INTEGER NOT NULL DEFAULT 0;

