import { Router } from "express";
import type { Clock } from "../clock.js";
import type { Db } from "../db/database.js";
import type { Services } from "../services.js";
import { createGrantRepository } from "../verification/grant.repository.js";

export function createGuaranteeRoutes(deps: { db: Db; clock: Clock; services: Services }): Router {
  const router = Router();
  const grants = createGrantRepository(deps.db);

  /** GET /guarantees/:contractNumber: the summary and history, for an orderer that verified it. */
  router.get("/guarantees/:contractNumber", (req, res, next) => {
    const guarantee = deps.services.guarantees.findByContractNumber(req.params.contractNumber);
    if (!guarantee || !grants.find(req.user!.ordererId, guarantee.id)) return next();
    res.render("guarantees/summary", { title: "電子保証概要", contractNumber: guarantee.contractNumber });
  });

  return router;
}
