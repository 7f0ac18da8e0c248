import { normalizeLogin, normalizeText } from "../format/normalize.js";
import { refusal, success, type Outcome } from "../result.js";
import type { Invitation } from "./invitation.repository.js";
import type { InvitationService } from "./invitation.service.js";
import { OFFICER_ROLES, type Officer, type OfficerRepository, type OfficerRole } from "./officer.repository.js";
import { isDisplayName, LOGIN_PATTERN, type AddedOfficer, type OfficerService } from "./officer.service.js";

/** Roles by rank: an administrator acts only on accounts of a rank up to their own. */
const ROLE_RANK: Record<OfficerRole, number> = { officer: 0, admin: 1 };

export const outranks = (role: OfficerRole, than: OfficerRole) => ROLE_RANK[role] > ROLE_RANK[than];

/** Refused: an officer this administrator cannot reach (another orderer's, or none: the same answer),
 * or an action refused with the reason to show. */
export type AdministrationResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: "not-found" }
  | { ok: false; reason: "refused"; message: string };

export type OfficerListing = { officers: Officer[]; invitations: Map<number, Invitation>; inviteDomains: string[]; providerLinked: Set<number> };

/**
 * An orderer administrator's rules over the officers of their own orderer: the scope (no other
 * orderer's account, answered as if it did not exist), the rank, and nothing that would lock the
 * orderer out (disabling or unmaking oneself). The changes themselves are OfficerService's,
 * audited with the administrator as the actor.
 */
export function createOfficerAdministration(deps: {
  officers: OfficerRepository; officerService: OfficerService; invitations: InvitationService;
  /** Removes the officer's second factor and ends their sessions (the second-factor service's, audited there). */
  resetSecondFactor: (officer: Officer, by: { actorKind: "officer"; actor: string; officerId: number }) => number;
  /** The officers tied to their identity provider's account, and untying one (sign-in through the orderer's provider's). */
  providerLinks: { linkedOfficerIds: (ordererId: number) => Set<number>; unlink: (officer: Officer, by: { actorKind: "officer"; actor: string }) => boolean };
}) {
  const { officers, officerService, invitations, resetSecondFactor, providerLinks } = deps;
  const refused = <T>(message: string): AdministrationResult<T> => ({ ok: false, reason: "refused", message });

  /** The officer, if the administrator may act on them at all. */
  function reach(administrator: Officer, rawLogin: string): AdministrationResult<Officer> {
    const officer = officers.findByLogin(normalizeLogin(rawLogin));
    if (!officer || officer.ordererId !== administrator.ordererId) return { ok: false, reason: "not-found" };
    if (outranks(officer.role, administrator.role)) return refused("この職員は権限が上位のため操作できません。");
    return { ok: true, value: officer };
  }

  /** The new officer's fields, refused in the officers' words (the shared service's messages are the CLI's). */
  function checkNewOfficer(input: { login: string; displayName: string }): Outcome<{ login: string; displayName: string }> {
    const login = normalizeLogin(input.login);
    const displayName = normalizeText(input.displayName);
    const problems = [];
    if (!LOGIN_PATTERN.test(login)) problems.push({ field: "login", message: "ログインIDは3〜64文字の半角英小文字・数字・「.」「_」「+」「-」で、英小文字か数字で始めてください（メールアドレスも使えます）。" });
    else if (officers.findByLogin(login)) problems.push({ field: "login", message: `ログインID「${login}」は既に使われています。` });
    if (!isDisplayName(displayName)) problems.push({ field: "displayName", message: "氏名は1〜100文字で入力してください。" });
    return problems.length > 0 ? refusal(...problems) : success({ login, displayName });
  }

  /** The one refusal left to the shared service once the fields passed: the login taken meanwhile. */
  const taken = (login: string) => refusal({ field: "login", message: `ログインID「${login}」は既に使われています。` });

  return {
    list: (administrator: Officer): OfficerListing => ({
      officers: officerService.list(administrator.ordererCode),
      invitations: invitations.pendingOf(administrator.ordererId),
      inviteDomains: invitations.domainsOf(administrator.ordererId),
      providerLinked: providerLinks.linkedOfficerIds(administrator.ordererId),
    }),

    /** An officer of the administrator's orderer with a one-time password, returned to be shown once. */
    async add(administrator: Officer, input: { login: string; displayName: string }): Promise<Outcome<AddedOfficer>> {
      const checked = checkNewOfficer(input);
      if (!checked.ok) return checked;
      const added = await officerService.add({ ordererCode: administrator.ordererCode, ...checked.value }, administrator);
      return added.ok ? added : taken(checked.value.login);
    },

    /** An officer invited by mail instead (see InvitationService.invite). */
    async invite(administrator: Officer, input: { login: string; displayName: string; email: string }): Promise<Outcome<{ officer: Officer; address: string }>> {
      const checked = checkNewOfficer(input);
      if (!checked.ok) return checked;
      const invited = await invitations.invite(administrator, { ...checked.value, email: input.email });
      return invited.ok || invited.problems[0]!.field === "email" ? invited : taken(checked.value.login);
    },

    disable(administrator: Officer, login: string): AdministrationResult<Officer> {
      const found = reach(administrator, login);
      if (!found.ok) return found;
      if (found.value.id === administrator.id) return refused("自分自身を停止することはできません。");
      return ok(officerService.setActive(found.value.login, false, administrator));
    },

    enable(administrator: Officer, login: string): AdministrationResult<Officer> {
      const found = reach(administrator, login);
      if (!found.ok) return found;
      if (invitations.isPending(found.value.id)) {
        return refused("招待中の職員は、招待メールのリンクからパスワードを設定すると有効になります。");
      }
      return ok(officerService.setActive(found.value.login, true, administrator));
    },

    /** A new one-time password (to be shown once); the officer's sessions end. */
    async resetPassword(administrator: Officer, login: string): Promise<AdministrationResult<AddedOfficer>> {
      const found = reach(administrator, login);
      if (!found.ok) return found;
      if (found.value.id === administrator.id) return refused("自分のパスワードは「パスワード変更」から変更してください。");
      if (invitations.isPending(found.value.id)) return refused("招待中の職員のパスワードは、招待メールのリンクから設定されます。");
      return ok(await officerService.resetPassword(found.value.login, administrator));
    },

    /** Ends every session of the officer (the administrator's own too, when they choose themselves). */
    revokeSessions(administrator: Officer, login: string): AdministrationResult<{ officer: Officer; ended: number }> {
      const found = reach(administrator, login);
      if (!found.ok) return found;
      const ended = officerService.revokeSessions(found.value.login, administrator);
      return ended.ok ? { ok: true, value: { officer: found.value, ended: ended.value } } : { ok: false, reason: "not-found" };
    },

    /** A lost second factor: removed with the recovery codes, the officer's sessions ended; they
     * log in with the password and enrol again. Not one's own (that is 「2段階認証」's re-enrolment). */
    resetSecondFactor(administrator: Officer, login: string): AdministrationResult<{ officer: Officer; ended: number }> {
      const found = reach(administrator, login);
      if (!found.ok) return found;
      if (found.value.id === administrator.id) return refused("自分の2段階認証は「2段階認証」の画面から再登録してください。");
      if (!found.value.secondFactorEnrolled) return refused(`${found.value.displayName}さんは2段階認証を登録していません。`);
      const ended = resetSecondFactor(found.value, { actorKind: "officer", actor: administrator.login, officerId: administrator.id });
      return { ok: true, value: { officer: found.value, ended } };
    },

    /** Unties the officer from their identity provider's account (it was recreated, say): the next
     * sign-in through the provider ties them again. */
    unlinkProvider(administrator: Officer, login: string): AdministrationResult<Officer> {
      const found = reach(administrator, login);
      if (!found.ok) return found;
      if (!providerLinks.unlink(found.value, { actorKind: "officer", actor: administrator.login })) {
        return refused(`${found.value.displayName}さんは所属の認証基盤のアカウントと連携していません。`);
      }
      return { ok: true, value: found.value };
    },

    /** A new invitation link to the invited officer's address (the old one then stops working). */
    async resendInvitation(administrator: Officer, login: string): Promise<AdministrationResult<{ officer: Officer; address: string }>> {
      const found = reach(administrator, login);
      if (!found.ok) return found;
      const resent = await invitations.resend(administrator, found.value);
      return resent.ok ? resent : refused(resent.problems[0]!.message);
    },

    /** Withdraws the officer's pending invitation: the link dies; the account stays disabled. */
    withdrawInvitation(administrator: Officer, login: string): AdministrationResult<Officer> {
      const found = reach(administrator, login);
      if (!found.ok) return found;
      const withdrawn = invitations.withdraw(administrator, found.value);
      return withdrawn.ok ? withdrawn : refused(withdrawn.problems[0]!.message);
    },

    /** Makes or unmakes an administrator: never above one's own rank, never oneself down, never the last one. */
    setRole(administrator: Officer, login: string, rawRole: string): AdministrationResult<Officer> {
      const found = reach(administrator, login);
      if (!found.ok) return found;
      const role = OFFICER_ROLES.find((r) => r === rawRole);
      if (!role) return refused("役割は「職員」か「所属管理者」を選んでください。");
      if (outranks(role, administrator.role)) return refused("自分より上位の役割は付与できません。");
      if (found.value.id === administrator.id && outranks(administrator.role, role)) return refused("自分自身の所属管理者の役割は外せません。ほかの所属管理者に依頼してください。");
      const changed = officerService.setRole(found.value.login, role, administrator);
      return changed.ok ? changed : refused("最後の所属管理者の役割は外せません。先にほかの職員を所属管理者にしてください。");
    },
  };
}

/** The shared service's outcome for an officer already reached: it can only have found them. */
function ok<T>(outcome: Outcome<T>): AdministrationResult<T> {
  if (!outcome.ok) throw new Error(`officer administration: unexpected refusal: ${outcome.problems[0]?.message}`);
  return outcome;
}

export type OfficerAdministration = ReturnType<typeof createOfficerAdministration>;
