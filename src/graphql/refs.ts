import type { AssociationLabel, ObjectModel } from '../db/generated/sqlite/client.js';
import type { AnyRecord, AssociationShape } from '../loaders/index.js';
import { builder } from './builder.js';

/**
 * The association graph's types reference each other (a record has associations, which have
 * labels, which have objects, which have records). Their refs are declared here, with their
 * shapes, and implemented in their own modules.
 *
 * They are plain Relay nodes rather than prismaNode types: every read of them goes through the
 * request's batch loaders (src/loaders), which apply visibility inside one query per level.
 */
export const ObjectRef = builder.objectRef<ObjectModel>('Object');
export const RecordRef = builder.objectRef<AnyRecord>('Record');
/** Fields of Record that a summary lacks (filled in by graphql/record.ts). */
export const RECORD_DETAIL_FIELDS = new Set<string>();
export const AssociationLabelRef = builder.objectRef<AssociationLabel>('AssociationLabel');
export const AssociationRef = builder.objectRef<AssociationShape>('Association');
