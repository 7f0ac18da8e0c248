import type { RequestHandler } from "express";
import type { OrdererService } from "./orderer.service.js";

export function createOrdererHandlers(deps: { orderers: OrdererService }) {
  /** GET /orderers: the public list of orderers that accept e-guarantees (電子保証対応の発注者). */
  const acceptingList: RequestHandler = (_req, res) => {
    res.render("orderers/list", {
      title: "電子保証対応の発注者",
      orderers: deps.orderers.listAccepting().map((o) => ({ code: o.code, name: o.name })),
    });
  };
  return { acceptingList };
}
