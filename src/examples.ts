import type { DemoExampleIds } from './services/demo.js';

/** Links two contacts as colleagues: its variables are two demo contacts (see `exampleTabs`). */
const LINK_OPERATION = `# Link two demo contacts (their ids are in Variables below) as colleagues. Linking again is a
# no-op: created = false.
mutation Link($first: ID!, $second: ID!) {
  linkRecords(input: { firstRecordId: $first, secondRecordId: $second, labelKeys: ["colleague"] }) {
    __typename
    ... on LinkRecordsSuccess { created associations { id label { key } } }
    ... on Error { code message }
    ... on LimitExceededError { limit max current }
  }
}`;

/** Operations GraphiQL opens with in development: a tour of the API. */
export const EXAMPLE_OPERATIONS = [
  `# Welcome to Relate. Run this (▶) with the demo admin key already in Headers.
query Viewer {
  viewer {
    user { name email role }
    workspace { name limits { maxLabelsPerObjectPair maxRecordsPerLabel maxAssociationsPerContact } }
  }
  objects { key singularName pluralName fields { key type required } }
  associationLabels { key type cardinality firstLabel secondLabel firstObject { key } secondObject { key } }
}`,
  `# A record page: one contact with its related records grouped by role.
query RecordPage {
  records(objectKey: "contact", first: 1) {
    edges {
      node {
        id
        displayName
        associationGroups {
          relatedRole
          relatedObject { key }
          totalCount
          records(first: 10) { edges { node { id displayName properties } } }
        }
      }
    }
  }
}`,
  `# A list page with association columns.
query ContactList {
  records(objectKey: "contact", first: 50) {
    totalCount
    edges {
      node {
        displayName
        associations(first: 10) {
          totalCount
          edges { relatedRole relatedRecord { displayName object { key } } }
        }
      }
    }
  }
}`,
  LINK_OPERATION,
  `# Limits you can see: the limits closest to their maximum (admins), what one record may still
# take (anyone who sees it), and a label's own limits per direction ("a car has at most two owners").
query LimitUsage {
  viewer {
    workspace {
      limits { maxLabelsPerObjectPair maxRecordsPerLabel maxAssociationsPerContact }
      limitUsage(first: 10) {
        limit max current percent
        label { key } firstObject { key } secondObject { key } record { displayName }
      }
    }
  }
  associationLabel(key: "owner_car") { key firstLabel secondLabel limits { maxSecondPerFirst maxFirstPerSecond } }
  records(objectKey: "custom_objects.cars", first: 3) {
    edges { node { displayName limitUsage { limit max current label { key } } } }
  }
}`,
  `# Graph exploration: the first contact's neighbourhood two hops out (the explorer page, /explore,
# draws it). path(from:, to:, maxHops:) finds the shortest chain between two records, and
# mutualAssociations(with:) the records two records have in common.
query Explore {
  records(objectKey: "contact", first: 1) {
    edges {
      node {
        displayName
        neighborhood(depth: 2, limit: 50) {
          truncated
          nodes { distance record { id displayName object { key } } }
          edges { label { key firstLabel secondLabel } firstRecord { displayName } secondRecord { displayName } }
        }
      }
    }
  }
}`,
  `# Live: association events as they are committed, by this server or any other on the same
# database. Run this, then run the Link tab (or link anywhere else): each LINKED or UNLINKED
# event you may see appears here. Filter with associationEvents(recordId: "…", labelKey: "…").
subscription LiveLinks {
  associationEvents {
    id
    action
    label { key firstLabel secondLabel }
    firstRecordId
    secondRecordId
    actor { name }
    at
  }
}`,
];

/**
 * GraphiQL's tabs: every example operation, with the variables it needs, so each runs as it is.
 * The demo's ids are read at start (they differ from one database to the next); without them
 * the Link tab opens with no variables.
 */
export function exampleTabs(ids: DemoExampleIds | null | undefined): { query: string; variables?: string }[] {
  return EXAMPLE_OPERATIONS.map((query) =>
    query === LINK_OPERATION && ids ? { query, variables: JSON.stringify({ first: ids.newColleagues[0], second: ids.newColleagues[1] }, null, 2) } : { query },
  );
}
