import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { Transactions } from "../db/transactions.js";
import { parseMailAddress } from "../format/mail-address.js";
import { refusal, success, type Outcome } from "../result.js";
import type { Hasher } from "../security/hasher.js";
import type { InvitationRepository } from "./invitation.repository.js";
import type { Officer, OfficerRepository } from "./officer.repository.js";
import type { NewOfficerInput, OfficerService } from "./officer.service.js";
import { checkNewPassword, normalizePassword } from "./password-policy.js";

/** How long an invitation's link may be used. */
export const INVITATION_VALID_MS = 72 * 60 * 60 * 1000;

/** The mail is sent while the administrator waits: past this, the invitation is given up (nothing stored). */
const SEND_TIMEOUT_MS = 20_000;

/** SMTP as the invitations use it: straight to the relay, never through the outbox (whose rows keep
 * mail bodies in the database, and an invitation's body holds its token). The composition root
 * builds it over the notifications' transport. */
export type InvitationMailer = {
  send(mail: { from: string; to: string; subject: string; text: string; messageId: string }): Promise<void>;
  /** The relay's refusal or the connection's failure in one line, without credentials. */
  describeError(error: unknown): string;
  from: string;
  publicBaseUrl: string;
};

export type InvitationLookup = { ok: true; officer: Officer; expiresAt: string } | { ok: false; reason: "unknown" | "expired" };

export type InvitationAcceptance =
  | { ok: true; officer: Officer }
  | { ok: false; reason: "unknown" | "expired" }
  | { ok: false; reason: "policy" | "mismatch"; message: string };

/** Only the token's SHA-256 is stored: it carries 256 random bits, so a plain hash cannot be reversed by guessing. */
const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

/** A link's token as we issue them (43 base64url characters); anything else is looked up as nothing. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Invitations by e-mail: an orderer administrator adds an officer who sets their own password
 * through a single-use link valid 72 hours. The link goes only to an address in a domain of the
 * orderer's registered mailboxes, so a set-password link never leaves the municipality.
 */
export function createInvitationService(deps: {
  invitations: InvitationRepository; officers: OfficerRepository; officerService: OfficerService;
  /** The orderer's registered mailboxes (orderer mail add). */
  mailboxesOf: (ordererId: number) => string[];
  tx: Transactions; clock: Clock; hasher: Hasher; audit: AuditService; mailer?: InvitationMailer;
}) {
  const { invitations, officers, officerService, mailboxesOf, tx, clock, hasher, audit, mailer } = deps;

  /** The domains an invitation may go to, or none when no mail can be sent. */
  const domainsOf = (ordererId: number): string[] =>
    mailer ? [...new Set(mailboxesOf(ordererId).map((address) => address.slice(address.lastIndexOf("@") + 1)))] : [];

  async function send(to: string, officer: { login: string; displayName: string; ordererName: string }, token: string): Promise<Outcome<void>> {
    const link = `${mailer!.publicBaseUrl}/invitations/${token}`;
    const text = [
      `${officer.displayName} 様`,
      "",
      `${officer.ordererName}の所属管理者が、電子保証確認サービス Kakunin にあなたのアカウント（ログインID: ${officer.login}）を登録しました。`,
      "次のリンクを開いてパスワードを設定してください。リンクは一度だけ、72時間以内に使えます。",
      "",
      link,
      "",
      "心当たりのない場合は、このメールを破棄し、所属の管理者にお知らせください。",
    ].join("\n");
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from the mail relay within ${SEND_TIMEOUT_MS / 1000} s`)), SEND_TIMEOUT_MS);
    });
    try {
      const messageId = `<${randomUUID()}@${new URL(mailer!.publicBaseUrl).hostname || "kakunin.invalid"}>`;
      await Promise.race([mailer!.send({ from: mailer!.from, to, subject: "【Kakunin】アカウントのご案内（パスワードの設定）", text, messageId }), timeout]);
      return success(undefined);
    } catch (error) {
      return refusal({ field: "email", message: `招待メールを送信できませんでした（${mailer!.describeError(error)}）。職員は登録されていません。時間をおいてもう一度お試しいただくか、初回パスワードで登録してください。` });
    } finally {
      clearTimeout(timer);
    }
  }

  const accept = tx.transaction((invitationId: number, officer: Officer, passwordHash: string): boolean => {
    if (!invitations.accept(invitationId, clock.now().toISOString())) return false;
    officerService.activateInvited(officer, passwordHash);
    audit.appendInTransaction({ event: "officer_invitation_accept", outcome: "ok", actorKind: "officer", actor: officer.login, officerId: officer.id, ordererCode: officer.ordererCode });
    return true;
  });

  /** The token's hash, valid 72 hours from now, and its audit row; in the caller's transaction. */
  function recordInvitation(administrator: Officer, officer: Officer, token: string, address: string, outcome: "sent" | "resent") {
    const now = clock.now();
    invitations.save({
      officerId: officer.id, tokenHash: hashToken(token), address, invitedBy: administrator.login,
      expiresAt: new Date(now.getTime() + INVITATION_VALID_MS).toISOString(),
    }, now.toISOString());
    audit.appendInTransaction({
      event: "officer_invite", outcome, actorKind: "officer", actor: administrator.login, officerId: officer.id,
      ordererCode: officer.ordererCode, detail: { login: officer.login, address },
    });
  }
  const saveInvitation = tx.transaction(recordInvitation);

  const withdraw = tx.transaction((administrator: Officer, officer: Officer): boolean => {
    if (!invitations.withdraw(officer.id)) return false;
    audit.appendInTransaction({
      event: "officer_invitation_withdraw", outcome: "ok", actorKind: "officer", actor: administrator.login, officerId: officer.id,
      ordererCode: officer.ordererCode, detail: { login: officer.login },
    });
    return true;
  });

  function lookUp(token: string): InvitationLookup & { invitationId?: number } {
    const invitation = TOKEN_PATTERN.test(token) ? invitations.findByTokenHash(hashToken(token)) : undefined;
    const officer = invitation && invitation.acceptedAt === null ? officers.findById(invitation.officerId) : undefined;
    if (!invitation || !officer) return { ok: false, reason: "unknown" };
    if (invitation.expiresAt <= clock.now().toISOString()) return { ok: false, reason: "expired" };
    return { ok: true, officer, expiresAt: invitation.expiresAt, invitationId: invitation.id };
  }

  return {
    /** The mailbox domains an administrator may invite to; empty when SMTP is not set or the orderer has no mailbox. */
    domainsOf,

    /** The orderer's invitations not yet accepted, by officer id. */
    pendingOf: (ordererId: number) => new Map(invitations.listPending(ordererId).map((i) => [i.officerId, i])),

    /** Whether the officer has an invitation not yet accepted (expired ones included). */
    isPending: (officerId: number) => invitations.findByOfficer(officerId)?.acceptedAt === null,

    /** Adds an officer of the administrator's orderer and mails them the link; nothing is stored unless the relay took the mail. */
    async invite(administrator: Officer, input: Omit<NewOfficerInput, "ordererCode"> & { email: string }): Promise<Outcome<{ officer: Officer; address: string }>> {
      const domains = domainsOf(administrator.ordererId);
      if (domains.length === 0) return refusal({ field: "email", message: "招待メールは送れません（メール送信が設定されていないか、所属のメールアドレスが登録されていません）。" });
      const parsed = parseMailAddress(input.email);
      if (!parsed.ok) return refusal({ field: "email", message: "メールアドレスの形式が正しくありません。" });
      const address = parsed.value;
      if (!domains.includes(address.slice(address.lastIndexOf("@") + 1))) {
        return refusal({ field: "email", message: `招待メールは所属のドメイン（${domains.join("、")}）のアドレスにだけ送れます。` });
      }
      const token = randomBytes(32).toString("base64url");
      const added = await officerService.addInvited({ ...input, ordererCode: administrator.ordererCode }, administrator, {
        send: () => send(address, { login: input.login, displayName: input.displayName, ordererName: administrator.ordererName }, token),
        record: (officer) => recordInvitation(administrator, officer, token, address, "sent"),
      });
      return added.ok ? success({ officer: added.value, address }) : added;
    },

    /** A new link for an invitation not yet accepted (expired, or the mail lost), to the same address;
     * the old link stops working once the relay took the new mail. */
    async resend(administrator: Officer, officer: Officer): Promise<Outcome<{ officer: Officer; address: string }>> {
      const pending = invitations.findByOfficer(officer.id);
      if (!pending || pending.acceptedAt !== null) return refusal({ field: "officers", message: "この職員への招待はありません。" });
      if (domainsOf(administrator.ordererId).length === 0) return refusal({ field: "officers", message: "招待メールは送れません（メール送信が設定されていないか、所属のメールアドレスが登録されていません）。" });
      const token = randomBytes(32).toString("base64url");
      const sent = await send(pending.address, officer, token);
      if (!sent.ok) return refusal({ field: "officers", message: sent.problems[0]!.message.replace("職員は登録されていません。", "これまでのリンクはそのまま使えます。") });
      saveInvitation.immediate(administrator, officer, token, pending.address, "resent");
      return success({ officer, address: pending.address });
    },

    /** Withdraws an invitation not yet accepted (sent to the wrong person, say): the link stops
     * working and the account stays disabled, with a password nobody holds. */
    withdraw(administrator: Officer, officer: Officer): Outcome<Officer> {
      return withdraw.immediate(administrator, officer) ? success(officer) : refusal({ field: "officers", message: "この職員への招待はありません。" });
    },

    /** The invited officer behind a link, while it may still be used. */
    find: (token: string): InvitationLookup => {
      const { invitationId: _id, ...found } = lookUp(token);
      return found;
    },

    /** Sets the invited officer's own password (the policy's rules), enables the account and uses the link up. */
    async accept(token: string, input: { newPassword: string; confirmPassword: string }): Promise<InvitationAcceptance> {
      const found = lookUp(token);
      if (!found.ok) return found;
      const officer = found.officer;
      if (input.newPassword !== input.confirmPassword) return { ok: false, reason: "mismatch", message: "新しいパスワードと確認用のパスワードが一致しません。" };
      const problem = checkNewPassword(input.newPassword, { login: officer.login, displayName: officer.displayName, ordererName: officer.ordererName });
      if (problem) return { ok: false, reason: "policy", message: problem };
      const hash = await hasher.hash(normalizePassword(input.newPassword));
      if (!accept.immediate(found.invitationId!, officer, hash)) return { ok: false, reason: "unknown" };
      return { ok: true, officer: officers.findById(officer.id)! };
    },
  };
}

export type InvitationService = ReturnType<typeof createInvitationService>;
