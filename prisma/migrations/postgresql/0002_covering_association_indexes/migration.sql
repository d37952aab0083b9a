-- DropIndex
DROP INDEX "Association_firstRecordId_labelId_id_idx";

-- DropIndex
DROP INDEX "Association_secondRecordId_labelId_id_idx";

-- CreateIndex
CREATE INDEX "Association_firstRecordId_labelId_secondRecordId_id_idx" ON "Association"("firstRecordId", "labelId", "secondRecordId", "id");

-- CreateIndex
CREATE INDEX "Association_secondRecordId_labelId_firstRecordId_id_idx" ON "Association"("secondRecordId", "labelId", "firstRecordId", "id");

