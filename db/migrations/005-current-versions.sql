-- The version in force of each guarantee: the latest one neither corrected nor withdrawn. The one
-- place this rule is written; every query that needs a guarantee's current certificate reads it.
CREATE VIEW current_versions AS
SELECT v.*
  FROM guarantee_versions v
 WHERE v.sequence = (
   SELECT max(cv.sequence) FROM guarantee_versions cv
    WHERE cv.guarantee_id = v.guarantee_id
      AND NOT EXISTS (SELECT 1 FROM version_retractions r WHERE r.version_id = cv.id));
