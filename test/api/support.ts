import { expect } from "chai";
import request from "supertest";
import type { Server } from "node:http";
import type { KakuninApp } from "../../src/app.js";
import { givenOrderer } from "../support/given.js";
import type { World } from "../support/world.js";

/** An API client of an orderer, added through the service the CLI uses; its secret as printed once. */
export function givenApiClient(world: World, orderer = "022080", name = "契約管理システム") {
  givenOrderer(world, orderer, orderer === "022080" ? "むつ市" : `発注者${orderer}`);
  const added = world.services.apiClients.add({ ordererCode: orderer, name }, "test");
  if (!added.ok) throw new Error(`given: refused: ${JSON.stringify(added.problems)}`);
  return { clientId: added.value.client.clientId, clientSecret: added.value.clientSecret };
}

export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;

/** POST /api/v1/token as a client would, expecting a token. */
export async function tokenFor(app: KakuninApp | Server | string, credentials: { clientId: string; clientSecret: string }): Promise<string> {
  const res = await request(app).post("/api/v1/token").set("Authorization", basic(credentials.clientId, credentials.clientSecret))
    .type("form").send({ grant_type: "client_credentials" });
  expect(res.status, res.text).to.equal(200);
  return res.body.access_token as string;
}

/** A problem document (RFC 9457) with this status and type. */
export function expectProblem(res: request.Response, status: number, code: string): void {
  expect(res.status, res.text).to.equal(status);
  expect(res.headers["content-type"]).to.match(/^application\/problem\+json/);
  expect(res.body).to.include({ status, type: `urn:kakunin:problem:${code}` });
  expect(res.body.title).to.be.a("string");
  expect(res.body.detail).to.be.a("string");
}
