import { createAuditService } from "./audit/audit.service.js";
import type { Clock } from "./clock.js";
import type { Db } from "./db/database.js";
import { createGuaranteeService } from "./guarantees/guarantee.service.js";
import { createIssuanceService } from "./guarantees/issuance.service.js";
import { createIssuerService } from "./issuers/issuer.service.js";
import { createOfficerService } from "./officers/officer.service.js";
import { createOrdererService } from "./orderers/orderer.service.js";
import type { Hasher } from "./security/hasher.js";
import { createLockoutService } from "./security/lockout.service.js";

/** The domain services over one database; the web app and the admin CLI both use these. */
export function createServices(db: Db, clock: Clock, hasher: Hasher) {
  const audit = createAuditService(db, clock);
  return {
    audit,
    issuers: createIssuerService(db, clock, audit),
    orderers: createOrdererService(db, clock, audit),
    officers: createOfficerService(db, clock, hasher, audit),
    issuance: createIssuanceService(db, clock, hasher, audit),
    guarantees: createGuaranteeService(db, clock, hasher, audit),
    lockouts: createLockoutService(db, clock, audit),
  };
}

export type Services = ReturnType<typeof createServices>;
