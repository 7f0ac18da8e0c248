import type { CertificateContent } from "../../src/guarantees/certificate.schema.js";
import type { HeldGuarantee } from "../../src/holdings/holding.repository.js";
import { sampleCertificate } from "../support/given.js";

/** The sample contract behind sampleCertificate(): 50,000,000 円, 前払金 20,000,000 円. */
export function contractForm(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    reference: "R8-001",
    projectName: "むつ市道大畑線道路改良工事",
    contractor: "〇〇建設 株式会社",
    contractAmount: "50000000",
    contractDate: "2026-11-02",
    periodFrom: "2026-11-04",
    periodTo: "2027-03-19",
    advanceAmount: "20000000",
    interimAmount: "",
    guaranteeRatio: "",
    guaranteeNumbers: "02208-000001",
    ...overrides,
  };
}

/** A held guarantee as the repository returns it, for the pure checks. */
export function heldGuarantee(content: Partial<CertificateContent> = {}, overrides: Partial<HeldGuarantee> = {}): HeldGuarantee {
  const sample = sampleCertificate() as Omit<CertificateContent, "orderer" | "issuer">;
  return {
    guaranteeId: 1, contractNumber: "02208-000001", product: "advance", status: "valid", cancelledAt: null, cancelReason: null,
    lastVerifiedAt: "2026-11-25T01:00:00.000Z", lastOpenedVersionId: 1, lastOpenedStatus: "valid", currentVersionId: 1,
    content: {
      ...sample,
      orderer: { code: "022080", name: "むつ市", title: "むつ市長" },
      issuer: { code: "ejcs", name: "東日本建設業保証株式会社", address: "東京都中央区", representativeTitle: "取締役社長", representativeName: "原田 保夫" },
      ...content,
    },
    ...overrides,
  };
}
