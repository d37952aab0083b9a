-- CreateTable
CREATE TABLE "Workspace" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "maxLabelsPerObjectPair" INTEGER NOT NULL DEFAULT 10,
    "maxRecordsPerLabel" INTEGER NOT NULL DEFAULT 1000,
    "maxAssociationsPerContact" INTEGER NOT NULL DEFAULT 10,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "User" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "workspaceId" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "role" TEXT NOT NULL DEFAULT 'USER',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "User_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "workspaceId" INTEGER NOT NULL,
    "userId" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" DATETIME,
    CONSTRAINT "ApiKey_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ApiKey_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Object" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "workspaceId" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "singularName" TEXT NOT NULL,
    "pluralName" TEXT NOT NULL,
    "standard" BOOLEAN NOT NULL DEFAULT false,
    "primaryProperty" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Object_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Field" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "objectId" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "required" BOOLEAN NOT NULL DEFAULT false,
    "position" INTEGER NOT NULL,
    CONSTRAINT "Field_objectId_fkey" FOREIGN KEY ("objectId") REFERENCES "Object" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Record" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "workspaceId" INTEGER NOT NULL,
    "objectId" INTEGER NOT NULL,
    "properties" TEXT NOT NULL,
    "displayName" TEXT NOT NULL,
    "searchText" TEXT NOT NULL,
    "ownerId" INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Record_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Record_objectId_fkey" FOREIGN KEY ("objectId") REFERENCES "Object" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "Record_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ObjectPermission" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "userId" INTEGER NOT NULL,
    "objectId" INTEGER NOT NULL,
    "access" TEXT NOT NULL,
    CONSTRAINT "ObjectPermission_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ObjectPermission_objectId_fkey" FOREIGN KEY ("objectId") REFERENCES "Object" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AssociationLabel" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "workspaceId" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "cardinality" TEXT NOT NULL DEFAULT 'MANY_TO_MANY',
    "firstObjectId" INTEGER NOT NULL,
    "secondObjectId" INTEGER NOT NULL,
    "firstLabel" TEXT NOT NULL,
    "secondLabel" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "AssociationLabel_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "AssociationLabel_firstObjectId_fkey" FOREIGN KEY ("firstObjectId") REFERENCES "Object" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "AssociationLabel_secondObjectId_fkey" FOREIGN KEY ("secondObjectId") REFERENCES "Object" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Association" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "workspaceId" INTEGER NOT NULL,
    "labelId" INTEGER NOT NULL,
    "firstRecordId" INTEGER NOT NULL,
    "secondRecordId" INTEGER NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdById" INTEGER,
    CONSTRAINT "Association_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Association_labelId_fkey" FOREIGN KEY ("labelId") REFERENCES "AssociationLabel" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Association_firstRecordId_fkey" FOREIGN KEY ("firstRecordId") REFERENCES "Record" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Association_secondRecordId_fkey" FOREIGN KEY ("secondRecordId") REFERENCES "Record" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Association_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AssociationEvent" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "workspaceId" INTEGER NOT NULL,
    "action" TEXT NOT NULL,
    "labelId" INTEGER,
    "labelKey" TEXT NOT NULL,
    "associationId" INTEGER NOT NULL,
    "firstRecordId" INTEGER NOT NULL,
    "secondRecordId" INTEGER NOT NULL,
    "actorId" INTEGER,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "AssociationEvent_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "AssociationEvent_labelId_fkey" FOREIGN KEY ("labelId") REFERENCES "AssociationLabel" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "AssociationEvent_actorId_fkey" FOREIGN KEY ("actorId") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "User_workspaceId_email_key" ON "User"("workspaceId", "email");

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_hash_key" ON "ApiKey"("hash");

-- CreateIndex
CREATE INDEX "ApiKey_workspaceId_idx" ON "ApiKey"("workspaceId");

-- CreateIndex
CREATE INDEX "ApiKey_userId_idx" ON "ApiKey"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "Object_workspaceId_key_key" ON "Object"("workspaceId", "key");

-- CreateIndex
CREATE UNIQUE INDEX "Field_objectId_key_key" ON "Field"("objectId", "key");

-- CreateIndex
CREATE INDEX "Record_workspaceId_objectId_id_idx" ON "Record"("workspaceId", "objectId", "id");

-- CreateIndex
CREATE INDEX "Record_objectId_ownerId_id_idx" ON "Record"("objectId", "ownerId", "id");

-- CreateIndex
CREATE INDEX "ObjectPermission_objectId_idx" ON "ObjectPermission"("objectId");

-- CreateIndex
CREATE UNIQUE INDEX "ObjectPermission_userId_objectId_key" ON "ObjectPermission"("userId", "objectId");

-- CreateIndex
CREATE INDEX "AssociationLabel_workspaceId_firstObjectId_secondObjectId_idx" ON "AssociationLabel"("workspaceId", "firstObjectId", "secondObjectId");

-- CreateIndex
CREATE INDEX "AssociationLabel_secondObjectId_idx" ON "AssociationLabel"("secondObjectId");

-- CreateIndex
CREATE UNIQUE INDEX "AssociationLabel_workspaceId_key_key" ON "AssociationLabel"("workspaceId", "key");

-- CreateIndex
CREATE INDEX "Association_firstRecordId_labelId_id_idx" ON "Association"("firstRecordId", "labelId", "id");

-- CreateIndex
CREATE INDEX "Association_secondRecordId_labelId_id_idx" ON "Association"("secondRecordId", "labelId", "id");

-- CreateIndex
CREATE INDEX "Association_labelId_secondRecordId_idx" ON "Association"("labelId", "secondRecordId");

-- CreateIndex
CREATE UNIQUE INDEX "Association_labelId_firstRecordId_secondRecordId_key" ON "Association"("labelId", "firstRecordId", "secondRecordId");

-- CreateIndex
CREATE INDEX "AssociationEvent_workspaceId_firstRecordId_id_idx" ON "AssociationEvent"("workspaceId", "firstRecordId", "id");

-- CreateIndex
CREATE INDEX "AssociationEvent_workspaceId_secondRecordId_id_idx" ON "AssociationEvent"("workspaceId", "secondRecordId", "id");

-- CreateIndex
CREATE INDEX "AssociationEvent_labelId_idx" ON "AssociationEvent"("labelId");

