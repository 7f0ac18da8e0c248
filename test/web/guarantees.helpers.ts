import { expect } from "chai";
import type { IssuedGuarantee } from "../../src/guarantees/issuance.service.js";
import { givenGuarantees, givenOfficer, sampleCertificate } from "../support/given.js";
import { loginAs, postForm, type WebWorld } from "../support/web.js";

export type Agent = Awaited<ReturnType<typeof loginAs>>;

/** An officer's agent that has verified `issued` with its key, as POST /verify does it. */
export async function verify(agent: Agent, issued: IssuedGuarantee): Promise<void> {
  const res = await postForm(agent, "/verify", "/verify", { contractNumber: issued.contractNumber, authKey: issued.authKey });
  expect(res.status, `verifying ${issued.contractNumber}`).to.equal(303);
  expect(res.headers.location, `verifying ${issued.contractNumber}`).to.equal(`/guarantees/${issued.contractNumber}`);
}

/** The むつ市 officer logged in, and the sample (with overrides) issued and verified by them. */
export async function givenVerifiedSample(world: WebWorld, overrides: Record<string, unknown> = {}) {
  const officer = await givenOfficer(world);
  const [issued] = await givenGuarantees(world, [sampleCertificate(overrides)]);
  const agent = await loginAs(world.app, officer.login, officer.password);
  await verify(agent, issued!);
  return { agent, issued: issued!, officer };
}

function decodeEntities(s: string): string {
  return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&#x3D;/g, "=").replace(/&#x60;/g, "`")
    .replace(/&amp;/g, "&");
}

/** The page as a reader sees it: tags dropped, entities for the characters Handlebars escapes decoded, spaces collapsed. */
export function textOf(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&[#a-z0-9]+;/gi, (entity) => decodeEntities(entity))
    .replace(/\s+/g, " ")
    .trim();
}

/** The rows of the first table whose class attribute contains `className`, each as its cells' text. */
export function tableRows(html: string, className: string): string[][] {
  const table = new RegExp(`<table class="[^"]*\\b${className}\\b[^"]*"[\\s\\S]*?</table>`).exec(html);
  if (!table) throw new Error(`no table .${className} on the page`);
  const body = /<tbody[^>]*>([\s\S]*?)<\/tbody>/.exec(table[0])?.[1] ?? "";
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) => textOf(cell[1]!)));
}

/** The classes of each body row of a table, in order. */
export function rowClasses(html: string, className: string): string[] {
  const table = new RegExp(`<table class="[^"]*\\b${className}\\b[^"]*"[\\s\\S]*?</table>`).exec(html);
  if (!table) throw new Error(`no table .${className} on the page`);
  const body = /<tbody[^>]*>([\s\S]*?)<\/tbody>/.exec(table[0])?.[1] ?? "";
  return [...body.matchAll(/<tr(?: class="([^"]*)")?[^>]*>/g)].map((m) => m[1] ?? "");
}

export function auditEvents(world: WebWorld, event: string) {
  return world.db.prepare("SELECT * FROM audit_events WHERE event = ? ORDER BY id").all(event) as Array<Record<string, unknown>>;
}

/** A page with its per-request id (a fresh UUID on every response, not information) blanked out. */
export function withoutRequestId(html: string): string {
  return html.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<request-id>");
}

/** Every link of the page as [its text, its href], entities decoded. */
export function linksOf(html: string): [string, string][] {
  return [...html.matchAll(/<a [^>]*href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/g)].map((m) => [textOf(m[2]!), decodeEntities(m[1]!)]);
}
