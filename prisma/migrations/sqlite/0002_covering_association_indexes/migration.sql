-- DropIndex
DROP INDEX "Association_firstRecordId_labelId_id_idx";

-- DropIndex
DROP INDEX "Association_secondRecordId_labelId_id_idx";

-- CreateIndex
CREATE INDEX "Association_firstRecordId_id_labelId_secondRecordId_idx" ON "Association"("firstRecordId", "id", "labelId", "secondRecordId");

-- CreateIndex
CREATE INDEX "Association_secondRecordId_id_labelId_firstRecordId_idx" ON "Association"("secondRecordId", "id", "labelId", "firstRecordId");

