import { Option, type Command } from "commander";
import { normalizeLogin } from "../../src/format/normalize.js";
import { secondFactorRequired } from "../../src/mfa/second-factor.service.js";
import type { AddedOfficer } from "../../src/officers/officer.service.js";
import { parseOrdererCode } from "../../src/orderers/orderer.service.js";
import { formatTable, type CliContext, type Run } from "./context.js";
import { addSsoCommand, addSsoUnlinkCommand } from "./sso.commands.js";

const yesNo = (b: boolean) => (b ? "yes" : "no");

/** orderer add|list|accepts|mfa, issuer add|list, officer add|list|disable|enable|reset-password|role|mfa-reset|sessions. */
export function addRegistryCommands(program: Command, ctx: CliContext, run: Run): void {
  const orderer = program.command("orderer").description("orderer organisations (発注者), e.g. むつ市 022080");

  orderer
    .command("add")
    .description("register an orderer by its 6-digit local government code (check digit verified)")
    .requiredOption("--code <code>", "全国地方公共団体コード, e.g. 022080")
    .requiredOption("--name <name>", "name, e.g. むつ市")
    .option("--no-accepts", "register it as not (yet) accepting e-guarantees")
    .action(run(async (opts: { code: string; name: string; accepts: boolean }, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const added = s.orderers.add({ code: opts.code, name: opts.name, acceptsEGuarantees: opts.accepts }, ctx.deps.actor);
        if (!added.ok) return ctx.refuse(added.problems);
        ctx.out(`orderer ${added.value.code} ${added.value.name} added (${added.value.acceptsEGuarantees ? "accepts" : "does not accept"} e-guarantees)`);
        return 0;
      })));

  orderer
    .command("list")
    .description("list the registered orderers")
    .action(run(async (_opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const rows = s.orderers.list().map((o) => [o.code, o.name, yesNo(o.acceptsEGuarantees)]);
        if (rows.length === 0) ctx.err("no orderers are registered (add one with \"orderer add\")");
        else formatTable(["code", "name", "accepts e-guarantees"], rows).forEach((l) => ctx.out(l));
        return 0;
      })));

  orderer
    .command("accepts")
    .description("say whether an orderer accepts e-guarantees (only those are listed publicly and can be issued to)")
    .argument("<code>", "the orderer's code")
    .addOption(new Option("--yes", "it accepts e-guarantees").conflicts("no"))
    .addOption(new Option("--no", "it does not accept e-guarantees"))
    .action(run(async (code: string, opts: { yes?: boolean; no?: boolean }, cmd: Command) => {
      if (!opts.yes && !opts.no) cmd.error("error: say --yes or --no", { exitCode: 2, code: "kakunin.usage" });
      return ctx.withServices(cmd, (s) => {
        const changed = s.orderers.setAcceptsEGuarantees(code, opts.yes === true, ctx.deps.actor);
        if (!changed.ok) return ctx.refuse(changed.problems);
        ctx.out(`orderer ${changed.value.code} ${changed.value.name} ${changed.value.acceptsEGuarantees ? "accepts" : "does not accept"} e-guarantees`);
        return 0;
      });
    }));

  orderer
    .command("mfa")
    .description("require a second factor (TOTP) of all the orderer's officers, or not (administrators always need one)")
    .argument("<code>", "the orderer's code")
    .option("--require", "every officer must enrol a second factor before using the service")
    .option("--no-require", "officers may choose (administrators still must)")
    .action(run(async (code: string, opts: { require?: boolean }, cmd: Command) => {
      if (opts.require === undefined) cmd.error("error: say --require or --no-require", { exitCode: 2, code: "kakunin.usage" });
      return ctx.withServices(cmd, (s) => {
        const changed = s.orderers.setMfaRequired(code, opts.require === true, ctx.deps.actor);
        if (!changed.ok) return ctx.refuse(changed.problems);
        ctx.out(`orderer ${changed.value.code} ${changed.value.name} ${changed.value.mfaRequired ? "requires a second factor of all its officers" : "leaves the second factor to its officers (administrators still need one)"}`);
        return 0;
      });
    }));

  addSsoCommand(orderer, ctx, run);

  const issuer = program.command("issuer").description("issuers (保証事業会社), e.g. 東日本建設業保証株式会社");

  issuer
    .command("add")
    .description("register a surety company")
    .requiredOption("--code <code>", "short code used in issuance files, e.g. ejcs")
    .requiredOption("--name <name>", "name, e.g. 東日本建設業保証株式会社")
    .requiredOption("--address <address>", "head-office address, as printed on certificates")
    .requiredOption("--representative <title-and-name>", 'representative, title then name, e.g. "取締役社長 原田 保夫"')
    .action(run(async (opts: { code: string; name: string; address: string; representative: string }, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const added = s.issuers.add(opts, ctx.deps.actor);
        if (!added.ok) return ctx.refuse(added.problems);
        ctx.out(`issuer ${added.value.code} ${added.value.name} added`);
        return 0;
      })));

  issuer
    .command("list")
    .description("list the registered issuers")
    .action(run(async (_opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const rows = s.issuers.list().map((i) => [i.code, i.name, i.address, `${i.representativeTitle} ${i.representativeName}`]);
        if (rows.length === 0) ctx.err("no issuers are registered (add one with \"issuer add\")");
        else formatTable(["code", "name", "address", "representative"], rows).forEach((l) => ctx.out(l));
        return 0;
      })));

  const officer = program.command("officer").description("officers (municipal staff who verify guarantees)");
  addSsoUnlinkCommand(officer, ctx, run);

  const printPassword = (added: AddedOfficer) => {
    if (added.initialPassword) {
      ctx.out(`initial password: ${added.initialPassword}`);
      ctx.err("Give it to the officer once, in person or by phone; it must be changed at first login.");
    } else {
      ctx.err("The chosen password is set; no change is forced at login.");
    }
  };

  officer
    .command("add")
    .description("register an officer of an orderer; prints a one-time initial password")
    .requiredOption("--orderer <code>", "the officer's orderer, e.g. 022080")
    .requiredOption("--login <login>", "login id, e.g. mutsu-tanaka")
    .requiredOption("--name <name>", 'display name, e.g. "田中 一郎"')
    .option("--password-stdin", "set a chosen password, read from the first line of standard input, instead")
    .option("--role <role>", "officer, or admin: an administrator of the orderer (所属管理者)", "officer")
    .action(run(async (opts: { orderer: string; login: string; name: string; passwordStdin?: boolean; role: string }, cmd: Command) => {
      const password = opts.passwordStdin ? await ctx.readStdinLine("password (one line):") : undefined;
      if (opts.passwordStdin && !password) return ctx.refuse([{ field: "password", message: "no password on standard input" }]);
      return ctx.withServices(cmd, async (s) => {
        const added = await s.officers.add({ ordererCode: opts.orderer, login: opts.login, displayName: opts.name, password, role: opts.role }, ctx.deps.actor);
        if (!added.ok) return ctx.refuse(added.problems);
        const o = added.value.officer;
        ctx.out(`${o.role === "admin" ? "administrator" : "officer"} ${o.login} (${o.displayName}) of ${o.ordererCode} ${o.ordererName} added`);
        printPassword(added.value);
        return 0;
      });
    }));

  officer
    .command("list")
    .description("list officers, of one orderer or all")
    .option("--orderer <code>", "only this orderer's officers")
    .action(run(async (opts: { orderer?: string }, cmd: Command) => {
      let code: string | undefined;
      if (opts.orderer !== undefined) {
        const parsed = parseOrdererCode(opts.orderer);
        if (!parsed.ok) return ctx.refuse(parsed.problems);
        code = parsed.value;
      }
      return ctx.withServices(cmd, (s) => {
        const rows = s.officers.list(code).map((o) => [
          o.login, o.displayName, `${o.ordererCode} ${o.ordererName}`, o.role, o.active ? "active" : "disabled", yesNo(o.mustChangePassword),
          o.secondFactorEnrolled ? "enrolled" : secondFactorRequired(o) ? "required, not enrolled" : "no", o.lastLoginAt ?? "never",
        ]);
        if (rows.length === 0) ctx.err("no officers are registered");
        else formatTable(["login", "name", "orderer", "role", "state", "must change password", "second factor", "last login"], rows).forEach((l) => ctx.out(l));
        return 0;
      });
    }));

  for (const [name, active] of [["disable", false], ["enable", true]] as const) {
    officer
      .command(name)
      .description(active ? "let a disabled officer log in again" : "stop an officer logging in; ends their sessions at once")
      .argument("<login>", "the officer's login id")
      .action(run(async (login: string, _opts: unknown, cmd: Command) =>
        ctx.withServices(cmd, (s) => {
          const changed = s.officers.setActive(login, active, ctx.deps.actor);
          if (!changed.ok) return ctx.refuse(changed.problems);
          ctx.out(`officer ${changed.value.login} ${active ? "enabled" : "disabled"}`);
          return 0;
        })));
  }

  officer
    .command("reset-password")
    .description("give an officer a new one-time password (or a chosen one) and end their sessions")
    .argument("<login>", "the officer's login id")
    .option("--password-stdin", "set a chosen password, read from the first line of standard input, instead")
    .action(run(async (login: string, opts: { passwordStdin?: boolean }, cmd: Command) => {
      const password = opts.passwordStdin ? await ctx.readStdinLine("password (one line):") : undefined;
      if (opts.passwordStdin && !password) return ctx.refuse([{ field: "password", message: "no password on standard input" }]);
      return ctx.withServices(cmd, async (s) => {
        const reset = await s.officers.resetPassword(login, ctx.deps.actor, password);
        if (!reset.ok) return ctx.refuse(reset.problems);
        ctx.out(`password of ${reset.value.officer.login} reset; their sessions are ended`);
        printPassword(reset.value);
        return 0;
      });
    }));

  officer
    .command("role")
    .description("make an officer an administrator of their orderer (admin), or not (officer); never the last administrator")
    .argument("<login>", "the officer's login id")
    .argument("<role>", "admin or officer")
    .action(run(async (login: string, role: string, _opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const changed = s.officers.setRole(login, role, ctx.deps.actor);
        if (!changed.ok) return ctx.refuse(changed.problems);
        ctx.out(`officer ${changed.value.login} of ${changed.value.ordererCode} is now ${changed.value.role === "admin" ? "an administrator" : "an officer"}`);
        return 0;
      })));

  officer
    .command("mfa-reset")
    .description("remove a lost second factor and its recovery codes and end the officer's sessions; they log in with the password and enrol again")
    .argument("<login>", "the officer's login id")
    .action(run(async (login: string, _opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const reset = s.secondFactors.resetByLogin(login, ctx.deps.actor);
        if (!reset.ok) return ctx.refuse(reset.problems);
        ctx.out(`second factor of ${reset.value.officer.login} reset; ${reset.value.sessionsEnded} session(s) ended`);
        if (secondFactorRequired(reset.value.officer)) ctx.err("A second factor is required of this officer: they enrol a new one at their next login.");
        return 0;
      })));

  officer
    .command("sessions")
    .description("end every session of an officer (e.g. a lost laptop)")
    .argument("<login>", "the officer's login id")
    .option("--revoke", "end them (required)")
    .action(run(async (login: string, opts: { revoke?: boolean }, cmd: Command) => {
      if (!opts.revoke) cmd.error("error: say --revoke to end the officer's sessions", { exitCode: 2, code: "kakunin.usage" });
      return ctx.withServices(cmd, (s) => {
        const ended = s.officers.revokeSessions(login, ctx.deps.actor);
        if (!ended.ok) return ctx.refuse(ended.problems);
        ctx.out(`${ended.value} session(s) of ${normalizeLogin(login)} ended`);
        return 0;
      });
    }));
}
