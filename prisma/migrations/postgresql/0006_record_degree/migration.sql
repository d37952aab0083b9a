-- CreateIndex
CREATE INDEX "RecordLabelTally_recordId_associations_idx" ON "RecordLabelTally"("recordId", "associations");
