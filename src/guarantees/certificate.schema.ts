import { z } from "zod";
import { isRealIsoDate } from "../format/era-date.js";
import { hasForbiddenCharacters, normalizeContractNumber, normalizeDocumentText, normalizeText } from "../format/normalize.js";
import { parseYen } from "../format/yen.js";
import type { Problem } from "../result.js";

export const PRODUCTS = ["advance", "interim", "contract"] as const;
export type Product = (typeof PRODUCTS)[number];

/** 商品名: each product's name as certificates, pages, notices and the CLI print it. */
export const PRODUCT_NAMES: Readonly<Record<Product, string>> = Object.freeze({
  advance: "前払金保証",
  interim: "中間前払金保証",
  contract: "契約保証",
});

/** Advance products (前払金保証, 中間前払金保証) name the bank holding the advance; 契約保証 does not. */
export const productHasDepositBank = (product: Product) => product !== "contract";

/** The certificate as issued: everything the paper shows, with the issuer and orderer copied in
 * at issuance so that a later change of a registry row never changes an issued certificate. */
export type CertificateContent = {
  issuedOn: string;
  contractor: { name: string; address: string; jvName?: string };
  projectName: string;
  projectLocation?: string;
  contractAmount: number;
  guaranteeAmount: number;
  depositBank?: string;
  contractDate: string;
  periodFrom: string;
  periodTo: string;
  guaranteeExpiry: string;
  orderer: { code: string; name: string; title: string };
  issuer: { code: string; name: string; address: string; representativeTitle: string; representativeName: string };
  branch: { name: string; tel: string; fax?: string };
};

const boundedText = (normalize: (raw: string) => string) => (max: number) =>
  z
    .string({ error: "is required" })
    .transform(normalize)
    .pipe(
      z
        .string()
        .min(1, { error: "is required" })
        .max(max, { error: `must be at most ${max} characters` })
        .refine((s) => !hasForbiddenCharacters(s), { error: "contains control or invisible characters" }),
    );

/** Codes: compatibility forms folded. */
const code = boundedText(normalizeText);
/** The certificate's own words: stored exactly as written, but for NFC and trimming. */
const text = boundedText(normalizeDocumentText);

const phone = z
  .string({ error: "is required" })
  .transform((s) => normalizeText(s).replace(/[‐‑‒–—―−ー]/g, "-"))
  .pipe(z.string().regex(/^[0-9][0-9()-]{5,19}$/, { error: "must be a telephone number such as 017-722-7262" }));

const yen = z.union([z.number(), z.string()], { error: "is required" }).transform((raw, ctx) => {
  const amount = parseYen(raw);
  if (amount === undefined) {
    ctx.addIssue({ code: "custom", message: `must be a positive whole number of yen (got "${raw}")` });
    return z.NEVER;
  }
  return amount;
});

const isoDate = z
  .string({ error: "is required" })
  .transform((s) => normalizeText(s).replace(/\//g, "-"))
  .refine(isRealIsoDate, { error: "must be a real date written YYYY-MM-DD" });

const contractNumber = z.string({ error: "is required" }).transform((raw, ctx) => {
  const normalized = normalizeContractNumber(raw);
  if (!normalized.ok) {
    ctx.addIssue({ code: "custom", message: `must be a contract number NNNNN-NNNNNN (got "${raw}")` });
    return z.NEVER;
  }
  return normalized.value;
});

const editableFields = {
  contractor: z.strictObject({ name: text(200), address: text(200), jvName: text(200).optional() }),
  projectName: text(200),
  projectLocation: text(200).optional(),
  contractAmount: yen,
  guaranteeAmount: yen,
  depositBank: text(100).optional(),
  contractDate: isoDate,
  periodFrom: isoDate,
  periodTo: isoDate,
  guaranteeExpiry: isoDate,
  issuedOn: isoDate,
  branch: z.strictObject({ name: text(100), tel: phone, fax: phone.optional() }),
};

/** One certificate of an issuance file. */
export const issuanceSchema = z.strictObject({
  contractNumber,
  product: z.enum(PRODUCTS, { error: `must be one of ${PRODUCTS.join(", ")}` }),
  issuer: code(32).transform((s) => s.toLowerCase()),
  orderer: z.strictObject({ code: code(6), title: text(100) }),
  ...editableFields,
});
export type IssuanceInput = z.output<typeof issuanceSchema>;

/** An amendment or correction: only the fields that change. Who issued it, to whom and under
 * which number and product can never change; that is a new guarantee. */
export const changeSchema = z.strictObject({
  ...editableFields,
  contractor: editableFields.contractor.partial(),
  branch: editableFields.branch.partial(),
  orderer: z.strictObject({ title: text(100) }),
}).partial();
export type ChangeInput = z.output<typeof changeSchema>;

/** The rules that tie fields together; also rechecked after an amendment is merged in. */
export function checkCertificateRules(product: Product, certificate: Omit<CertificateContent, "orderer" | "issuer">): Problem[] {
  const problems: Problem[] = [];
  if (certificate.guaranteeAmount > certificate.contractAmount) {
    problems.push({ field: "guaranteeAmount", message: `${certificate.guaranteeAmount} yen exceeds the contract amount ${certificate.contractAmount} yen` });
  }
  if (productHasDepositBank(product) && !certificate.depositBank) {
    problems.push({ field: "depositBank", message: `is required for ${product} guarantees (預託金融機関)` });
  }
  if (!productHasDepositBank(product) && certificate.depositBank) {
    problems.push({ field: "depositBank", message: "must be absent for contract guarantees (契約保証 has no 預託金融機関)" });
  }
  if (certificate.periodFrom > certificate.periodTo) problems.push({ field: "periodTo", message: `${certificate.periodTo} is before periodFrom ${certificate.periodFrom}` });
  if (certificate.contractDate > certificate.periodTo) problems.push({ field: "contractDate", message: `${certificate.contractDate} is after the end of the works periodTo ${certificate.periodTo}` });
  if (certificate.guaranteeExpiry < certificate.periodTo) problems.push({ field: "guaranteeExpiry", message: `${certificate.guaranteeExpiry} is before the end of the works periodTo ${certificate.periodTo}` });
  if (certificate.issuedOn > certificate.guaranteeExpiry) problems.push({ field: "issuedOn", message: `${certificate.issuedOn} is after the guarantee expiry ${certificate.guaranteeExpiry}` });
  return problems;
}

/** zod issues -> problems naming the field path ("contractor.name") and the row. */
export function toProblems(error: z.ZodError, row?: number): Problem[] {
  return error.issues.map((issue) => {
    const field = issue.path.join(".") || "(certificate)";
    const message =
      issue.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}` :
      issue.code === "invalid_type" && issue.input === undefined ? "is required" :
      issue.message;
    return { field: issue.code === "unrecognized_keys" && field === "(certificate)" ? issue.keys.join(", ") : field, message, ...(row !== undefined ? { row } : {}) };
  });
}
