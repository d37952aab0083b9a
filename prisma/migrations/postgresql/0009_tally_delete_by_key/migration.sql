-- Written by hand: the usage tallies' delete trigger, with the same results, in time linear in
-- the rows a statement removes.
--
-- 0004's version removed the tally rows that reached 0 with
-- `DELETE … WHERE ("labelId", "recordId") IN (pairs of the statement) AND "associations" <= 0`.
-- PostgreSQL estimates the rows at 0 as none, so it scans the whole tally table and, for each row
-- at 0, the statement's pairs again: a 1,000-row delete cost 0.27 s, 2,000 rows 0.76 s, 4,000
-- rows 2.5 s (a label deleted with its 25,000 associations, minutes), and even one unlink read
-- every tally row of every workspace (likewise "ContactTally", whole, once per statement). Here
-- the rows a statement touches are found once, by primary key, from its transition table, and
-- each is either decreased or, when it reaches 0, deleted in the same statement (the two
-- conditions are complementary on the row's current version, so each row takes exactly one).
-- Whether a record left a label is asked per record, by key (a subquery that stays one): as an
-- anti-join it was planned for the connection's first statement, and after a batch of 2,000 an
-- unlink read the whole tally table.
CREATE OR REPLACE FUNCTION "association_tally_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH removed AS (
    SELECT r."labelId", r."recordId", r."side", COUNT(*) AS "n" FROM (
      SELECT "labelId", "firstRecordId" AS "recordId", 1 AS "side" FROM deleted
      UNION ALL
      SELECT "labelId", "secondRecordId", 2 FROM deleted
    ) r
    GROUP BY r."labelId", r."recordId", r."side"
  ), x AS (
    SELECT r."labelId", r."recordId", r."side", SUM(d."n") AS "n" FROM removed d
    JOIN "RecordLabelTally" r ON r."labelId" = d."labelId" AND r."recordId" = d."recordId" AND r."side" IN (0, d."side")
    GROUP BY r."labelId", r."recordId", r."side"
  ), kept AS (
    UPDATE "RecordLabelTally" t SET "associations" = t."associations" - x."n"
    FROM x
    WHERE t."labelId" = x."labelId" AND t."recordId" = x."recordId" AND t."side" = x."side" AND t."associations" > x."n"
  )
  DELETE FROM "RecordLabelTally" t
  USING x
  WHERE t."labelId" = x."labelId" AND t."recordId" = x."recordId" AND t."side" = x."side" AND t."associations" <= x."n";

  UPDATE "LabelTally" lt SET "records" = lt."records" - gone."records"
  FROM (
    SELECT d."labelId", COUNT(*) AS "records" FROM (
      SELECT "labelId", "firstRecordId" AS "recordId" FROM deleted UNION SELECT "labelId", "secondRecordId" FROM deleted
    ) d
    WHERE (SELECT COUNT(*) FROM "RecordLabelTally" t WHERE t."labelId" = d."labelId" AND t."recordId" = d."recordId") = 0
    GROUP BY d."labelId"
  ) gone
  WHERE lt."labelId" = gone."labelId";

  WITH x AS (
    SELECT r."recordId", COUNT(*) AS "n" FROM (
      SELECT "firstRecordId" AS "recordId", "labelId" FROM deleted
      UNION ALL
      SELECT "secondRecordId", "labelId" FROM deleted
    ) r
    JOIN "AssociationLabel" l ON l."id" = r."labelId"
    JOIN "Object" o ON o."id" = l."firstObjectId"
    WHERE l."secondObjectId" = l."firstObjectId" AND o."key" = 'contact'
    GROUP BY r."recordId"
  ), kept AS (
    UPDATE "ContactTally" c SET "associations" = c."associations" - x."n"
    FROM x
    WHERE c."recordId" = x."recordId" AND c."associations" > x."n"
  )
  DELETE FROM "ContactTally" c
  USING x
  WHERE c."recordId" = x."recordId" AND c."associations" <= x."n";
  RETURN NULL;
END
$$;
