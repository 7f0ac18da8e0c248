import type { RequestHandler } from "express";
import { normalizeAuthKey, normalizeContractNumber } from "../format/normalize.js";
import { formatEraDateTime } from "../format/era-date.js";
import { clientAddress } from "../http/client-address.js";
import { readForm } from "../http/forms.js";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import { officerActor, type VerificationService } from "./verification.service.js";

/** The one message for every kind of failure, so nobody can probe which numbers exist. */
export const VERIFY_FAILED = "保証契約番号または認証キーが正しくないか、貴団体あての保証ではありません。入力内容をご確認ください。";

const VERIFY_FIELDS = { contractNumber: 64, authKey: 64 };

/** The Japanese message for a throttled verification: when to retry, or whom to ask when locked. */
export function verifyThrottledMessage(throttled: { retryAfterSeconds: number; locked: boolean }, now: Date): string {
  if (throttled.locked) {
    return "この保証契約番号は確認の失敗が続いたため、確認を停止しています。保証事業会社の担当窓口に解除をご依頼ください。";
  }
  const retryAt = new Date(now.getTime() + throttled.retryAfterSeconds * 1000);
  return `確認の失敗が続いたため、一時的に確認を停止しています。${formatEraDateTime(retryAt)}以降にもう一度お試しください。`;
}

/**
 * The verification form's handlers. createApp mounts readVerifyForm before the officer guards, so
 * that the order is body -> CSRF -> form -> session -> throttle -> argon2.
 */
export function createVerificationHandlers(deps: { verification: VerificationService; clock: Clock; logger: Logger }) {
  /** GET /verify: the form for a contract number and an auth key. */
  const verifyForm: RequestHandler = (req, res) => {
    const flash = req.session.flash;
    if (flash) delete req.session.flash;
    res.render("verify/form", { title: "電子保証の確認", flash });
  };

  const readVerifyForm: RequestHandler = (req, res, next) => {
    res.locals.form = readForm(req, VERIFY_FIELDS);
    next();
  };

  /** POST /verify: 303 to the guarantee on success; otherwise the form again with one message. */
  const verify: RequestHandler = async (req, res) => {
    const form = res.locals.form as Record<keyof typeof VERIFY_FIELDS, string>;
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
      actor: officerActor(req.user!), contractNumber: contractNumber.value, authKey: authKey.value, clientAddress: clientAddress(req),
    });
    if (result.ok) return res.redirect(303, `/guarantees/${result.guarantee.contractNumber}`);
    if (result.reason === "throttled") {
      deps.logger.warn({ evt: "key_verify_throttled", requestId: res.locals.requestId, officerId: req.user!.id, locked: result.locked }, "verification throttled");
      res.set("Retry-After", String(result.retryAfterSeconds));
      return res.status(429).render("verify/form", {
        title: "電子保証の確認",
        contractNumber: contractNumber.value,
        errors: [{ field: "contractNumber", message: verifyThrottledMessage(result, deps.clock.now()) }],
      });
    }
    res.status(400).render("verify/form", {
      title: "電子保証の確認",
      contractNumber: contractNumber.value,
      errors: [{ field: "authKey", message: VERIFY_FAILED }],
    });
  };

  return { verifyForm, readVerifyForm, verify };
}
