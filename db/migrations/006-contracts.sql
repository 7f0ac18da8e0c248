-- The orderer's register of its contracts (請負契約), compared with the guarantees it holds (照合).
-- A contract's state is not stored: it depends on today's date and on guarantees that change
-- without the contract changing, so it is computed from these rows whenever it is shown.

CREATE TABLE contracts (
  id                          INTEGER PRIMARY KEY,
  orderer_id                  INTEGER NOT NULL REFERENCES orderers (id),
  -- 契約番号: the orderer's own reference (not a 保証契約番号), NFKC-normalised.
  reference                   TEXT    NOT NULL CHECK (length(reference) BETWEEN 1 AND 50),
  project_name                TEXT    NOT NULL CHECK (length(project_name) BETWEEN 1 AND 200),
  contractor                  TEXT    NOT NULL CHECK (length(contractor) BETWEEN 1 AND 200),
  contract_amount             INTEGER NOT NULL CHECK (typeof(contract_amount) = 'integer' AND contract_amount > 0),
  contract_date               TEXT    NOT NULL CHECK (contract_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  period_from                 TEXT    NOT NULL CHECK (period_from GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  period_to                   TEXT    NOT NULL CHECK (period_to GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  -- NULL: no 前払金 / 中間前払金, so no such guarantee is required.
  advance_amount              INTEGER CHECK (advance_amount IS NULL OR (typeof(advance_amount) = 'integer' AND advance_amount > 0)),
  interim_amount              INTEGER CHECK (interim_amount IS NULL OR (typeof(interim_amount) = 'integer' AND interim_amount > 0)),
  -- 契約保証 required when set: at least numerator/denominator of contract_amount (in lowest terms).
  guarantee_ratio_numerator   INTEGER,
  guarantee_ratio_denominator INTEGER,
  -- 1 when registered, +1 for each 変更契約; a form sends back the revision it showed.
  revision                    INTEGER NOT NULL DEFAULT 1 CHECK (revision >= 1),
  created_at                  TEXT    NOT NULL,
  updated_at                  TEXT    NOT NULL,
  UNIQUE (orderer_id, reference),
  CHECK (period_from <= period_to),
  CHECK (contract_date <= period_to),
  CHECK ((guarantee_ratio_numerator IS NULL) = (guarantee_ratio_denominator IS NULL)),
  CHECK (typeof(guarantee_ratio_numerator) IN ('integer', 'null') AND typeof(guarantee_ratio_denominator) IN ('integer', 'null')),
  CHECK (guarantee_ratio_numerator > 0 AND guarantee_ratio_numerator <= guarantee_ratio_denominator)
);
-- The register lists, pages (keyset on reference) and searches within one orderer: the UNIQUE
-- index on (orderer_id, reference) serves all three.

-- The 保証契約番号 a contract relies on, in the order given. A number is only a claim: it shows
-- anything of a guarantee only when the orderer holds it (orderer_guarantees), so no foreign key.
CREATE TABLE contract_guarantee_numbers (
  contract_id     INTEGER NOT NULL REFERENCES contracts (id) ON DELETE CASCADE,
  position        INTEGER NOT NULL CHECK (position >= 1),
  contract_number TEXT    NOT NULL
                  CHECK (contract_number GLOB '[0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9]'),
  PRIMARY KEY (contract_id, position),
  UNIQUE (contract_id, contract_number)
) WITHOUT ROWID;
