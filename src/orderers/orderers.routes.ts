import { Router } from "express";
import type { OrdererService } from "./orderer.service.js";

export function createOrdererRoutes(deps: { orderers: OrdererService }): Router {
  const router = Router();
  /** GET /orderers: the public list of orderers that accept e-guarantees (電子保証対応の発注者). */
  router.get("/orderers", (_req, res) => {
    res.render("orderers/list", {
      title: "電子保証対応の発注者",
      orderers: deps.orderers.listAccepting().map((o) => ({ code: o.code, name: o.name })),
    });
  });
  return router;
}
