import type { ContractActor, ContractService } from "../../src/contracts/contract.service.js";
import type { IssuedGuarantee } from "../../src/guarantees/issuance.service.js";
import type { Officer } from "../../src/officers/officer.repository.js";
import { givenGuarantees, givenOfficer, sampleCertificate } from "../support/given.js";
import { buildWorld, type World } from "../support/world.js";
import { officerActor } from "../../src/verification/verification.service.js";

export type ContractWorld = World & { contracts: ContractService; officer: Officer; actor: ContractActor };

/** A fresh database with むつ市, one of its officers, and the contract service of the composition root. */
export async function buildContractWorld(): Promise<ContractWorld> {
  const world = await buildWorld();
  const { officer } = await givenOfficer(world);
  const contracts = world.services.contracts;
  return Object.assign(world, { contracts, officer, actor: actorOf(officer) });
}

export function actorOf(officer: Officer): ContractActor {
  return { kind: "officer", login: officer.login, officerId: officer.id, ordererId: officer.ordererId, ordererCode: officer.ordererCode, clientAddress: "192.0.2.10" };
}

/** The officer verifies the guarantee with its key, as on the web: the orderer then holds it. */
export async function verifyAs(world: World, officer: Officer, issued: IssuedGuarantee): Promise<void> {
  const result = await world.services.verification.verify({ actor: officerActor(officer), contractNumber: issued.contractNumber, authKey: issued.authKey, clientAddress: "192.0.2.10" });
  if (!result.ok) throw new Error(`verifyAs: ${result.reason}`);
}

/** Issues a guarantee (the sample's 50,000,000 円 contract unless overridden) and verifies it. */
export async function givenHeld(world: ContractWorld, overrides: Record<string, unknown> = {}): Promise<IssuedGuarantee> {
  const [issued] = await givenGuarantees(world, [sampleCertificate(overrides)]);
  await verifyAs(world, world.officer, issued!);
  return issued!;
}
