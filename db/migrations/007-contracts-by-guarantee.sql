-- A guarantee's summary page shows the 照合 of every contract of the orderer that names it: the
-- numbers are looked up by 保証契約番号 (the primary key starts with the contract instead).
CREATE INDEX contract_guarantee_numbers_by_number ON contract_guarantee_numbers (contract_number, contract_id);
