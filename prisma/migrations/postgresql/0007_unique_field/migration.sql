-- AlterTable
ALTER TABLE "Field" ADD COLUMN     "unique" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "Record" ADD COLUMN     "uniqueValue" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Record_objectId_uniqueValue_key" ON "Record"("objectId", "uniqueValue");

