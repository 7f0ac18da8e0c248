import Handlebars from "handlebars";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { formatEraDate } from "../format/era-date.js";
import { formatAuthKeyForPrint } from "../format/normalize.js";
import { viewsDir } from "../paths.js";
import { refusal, success, type Outcome } from "../result.js";
import { PRODUCT_NAMES, type CertificateContent, type Product } from "./certificate.schema.js";

/**
 * 電子保証にかかる「認証キー」のお知らせ: the print-ready notice the issuer hands to the contractor,
 * who passes it on to the orderer (source document, section ⑤). One standalone HTML file per
 * certificate, its CSS inline, so it prints the same wherever it is opened.
 */


/** What a notice needs: the number, the key (in clear, once) and the certificate it opens. */
export type NoticeInput = { contractNumber: string; authKey: string; product: Product; content: CertificateContent };

export type NoticeView = {
  noticeDate: string;
  projectName: string;
  contractorName: string;
  jvName: string | null;
  productLabel: string;
  contractNumber: string;
  authKey: string;
  ordererName: string;
  issuerName: string;
  branchName: string;
  branchTel: string;
};

export function toNoticeView(input: NoticeInput, noticeDate: string): NoticeView {
  const certificate = input.content;
  return {
    noticeDate: formatEraDate(noticeDate),
    projectName: certificate.projectName,
    contractorName: certificate.contractor.name,
    jvName: certificate.contractor.jvName ?? null,
    productLabel: PRODUCT_NAMES[input.product],
    contractNumber: input.contractNumber,
    authKey: formatAuthKeyForPrint(input.authKey),
    ordererName: certificate.orderer.name,
    issuerName: certificate.issuer.name,
    branchName: certificate.branch.name,
    branchTel: certificate.branch.tel,
  };
}

/** Compiles the template once per renderer; strict, so a misspelt field fails the tests, not a notice. */
export function createNoticeRenderer(templateFile = path.join(viewsDir, "notices", "auth-key-notice.hbs")) {
  const handlebars = Handlebars.create();
  const template = handlebars.compile<NoticeView>(readFileSync(templateFile, "utf8"), { strict: true });
  return {
    /** noticeDate is the Asia/Tokyo calendar date the notice is made, "YYYY-MM-DD". */
    render: (input: NoticeInput, noticeDate: string): string => template(toNoticeView(input, noticeDate)),
  };
}

export type NoticeRenderer = ReturnType<typeof createNoticeRenderer>;

/**
 * Makes sure notices can be written to dir before anything is issued: creates it (private to the
 * admin: notices hold keys) and writes and removes a probe file, which, unlike access(2), also
 * tells the truth for root and on read-only mounts.
 */
export function prepareNoticeDir(dir: string): Outcome<string> {
  const resolved = path.resolve(dir);
  try {
    mkdirSync(resolved, { recursive: true, mode: 0o700 });
    const folder = statSync(resolved);
    if (!folder.isDirectory()) return refusal({ field: "--notices", message: `${resolved} is not a folder` });
    if ((folder.mode & 0o077) !== 0) {
      return refusal({ field: "--notices", message: `${resolved} can be read by others; notices hold keys (chmod 700 it, or name a new folder)` });
    }
    const probe = path.join(resolved, `.kakunin-probe-${randomBytes(6).toString("hex")}`);
    writeFileSync(probe, "", { flag: "wx", mode: 0o600 });
    rmSync(probe);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "EEXIST" ? "exists and is not a folder" : `cannot be written to (${(error as Error).message})`;
    return refusal({ field: "--notices", message: `${resolved} ${reason}` });
  }
  return success(resolved);
}

/** Writes <dir>/<contractNumber>.html for each, readable by the admin only; returns the paths. */
export function writeNotices(dir: string, inputs: NoticeInput[], renderer: NoticeRenderer, noticeDate: string): string[] {
  return inputs.map((input) => {
    const file = path.join(dir, `${input.contractNumber}.html`);
    // A fresh private file renamed over any old one: writeFileSync's mode does not change an existing
    // file (a rotated key's notice would keep a readable mode) and a plain write follows a planted link.
    const temporary = path.join(dir, `.${input.contractNumber}.${randomBytes(6).toString("hex")}.tmp`);
    writeFileSync(temporary, renderer.render(input, noticeDate), { flag: "wx", mode: 0o600 });
    renameSync(temporary, file);
    return file;
  });
}
