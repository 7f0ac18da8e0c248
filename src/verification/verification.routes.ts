import { Router } from "express";
import { normalizeAuthKey, normalizeContractNumber } from "../format/normalize.js";
import { formatEraDateTime } from "../format/era-date.js";
import { readForm } from "../http/forms.js";
import type { Clock } from "../clock.js";
import type { VerificationService } from "./verification.service.js";

/** The one message for every kind of failure, so nobody can probe which numbers exist. */
export const VERIFY_FAILED = "保証契約番号または認証キーが正しくないか、貴団体あての保証ではありません。入力内容をご確認ください。";

export function createVerificationRoutes(deps: { verification: VerificationService; clock: Clock }): Router {
  const router = Router();

  /** GET /verify: the form for a contract number and an auth key. */
  router.get("/verify", (req, res) => {
    const flash = req.session.flash;
    if (flash) delete req.session.flash;
    res.render("verify/form", { title: "電子保証の確認", flash });
  });

  /** POST /verify: 303 to the guarantee on success; otherwise the form again with one message. */
  router.post("/verify", async (req, res) => {
    const form = readForm(req, { contractNumber: 64, authKey: 64 });
    const contractNumber = normalizeContractNumber(form.contractNumber);
    const authKey = normalizeAuthKey(form.authKey);
    if (!contractNumber.ok || !authKey.ok) {
      return res.status(400).render("verify/form", {
        title: "電子保証の確認",
        contractNumber: form.contractNumber,
        errors: [
          ...(contractNumber.ok ? [] : [{ field: "contractNumber", message: "保証契約番号は「12345-123456」の形式（数字5桁-数字6桁）で入力してください。" }]),
          ...(authKey.ok ? [] : [{ field: "authKey", message: "認証キーは英数字12文字で入力してください（ハイフン・空白は省略できます）。" }]),
        ],
      });
    }
    const result = await deps.verification.verify({
      officer: req.user!, contractNumber: contractNumber.value, authKey: authKey.value, clientAddress: req.ip ?? "unknown",
    });
    if (result.ok) return res.redirect(303, `/guarantees/${result.guarantee.contractNumber}`);
    if (result.reason === "throttled") {
      res.set("Retry-After", String(result.retryAfterSeconds));
      const retryAt = new Date(deps.clock.now().getTime() + result.retryAfterSeconds * 1000);
      return res.status(429).render("verify/form", {
        title: "電子保証の確認",
        contractNumber: contractNumber.value,
        errors: [{ field: "contractNumber", message: `確認の失敗が続いたため、一時的に確認を停止しています。${formatEraDateTime(retryAt)}以降にもう一度お試しください。` }],
      });
    }
    res.status(400).render("verify/form", {
      title: "電子保証の確認",
      contractNumber: contractNumber.value,
      errors: [{ field: "authKey", message: VERIFY_FAILED }],
    });
  });

  return router;
}
