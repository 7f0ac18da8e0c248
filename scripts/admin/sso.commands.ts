import { Option, type Command } from "commander";
import type { SsoSetting } from "../../src/sso/sso.repository.js";
import type { CliContext, Run } from "./context.js";

/** officer sso-unlink LOGIN: forget the provider subject an officer is tied to (see docs/SECURITY.md). */
export function addSsoUnlinkCommand(officer: Command, ctx: CliContext, run: Run): void {
  officer
    .command("sso-unlink")
    .description("forget which identity provider account (subject) the officer is tied to; their next sign-in through it ties them again")
    .argument("<login>", "the officer's login id")
    .action(run(async (login: string, _opts: unknown, cmd: Command) =>
      ctx.withServices(cmd, (s) => {
        const unlinked = s.ssoSettings.unlinkOfficer(login, ctx.deps.actor);
        if (!unlinked.ok) return ctx.refuse(unlinked.problems);
        ctx.out(unlinked.value.wasLinked ? `${unlinked.value.login} is no longer tied to an identity provider account` : `${unlinked.value.login} was not tied to an identity provider account`);
        return 0;
      })));
}

type SsoOptions = {
  issuer?: string; clientId?: string; clientSecretStdin?: boolean; loginClaim?: string; domain?: string;
  createAccounts?: boolean; providerMfa?: boolean; show?: boolean; remove?: boolean;
};

const onOff = (b: boolean) => (b ? "on" : "off");

/** orderer sso CODE: sign-in through the orderer's identity provider (OpenID Connect): set, --show, --remove. */
export function addSsoCommand(orderer: Command, ctx: CliContext, run: Run): void {
  const print = (s: SsoSetting) => {
    ctx.out(`orderer:          ${s.ordererCode} ${s.ordererName}`);
    ctx.out(`issuer:           ${s.issuer}`);
    ctx.out(`client id:        ${s.clientId}`);
    ctx.out("client secret:    (sealed; never shown)");
    ctx.out(`login claim:      ${s.loginClaim}`);
    ctx.out(`login domains:    ${s.domains.length > 0 ? s.domains.join(", ") : "(none: chosen by orderer only)"}`);
    ctx.out(`create accounts:  ${onOff(s.createAccounts)}`);
    ctx.out(`provider MFA:     ${onOff(s.providerMfa)}`);
    ctx.out(`updated at:       ${s.updatedAt}`);
  };

  orderer
    .command("sso")
    .description("sign-in through the orderer's identity provider (OpenID Connect): set or change it, --show it or --remove it")
    .argument("<code>", "the orderer's code, e.g. 022080")
    .option("--issuer <url>", "the provider's issuer URL (https://…; discovery at /.well-known/openid-configuration)")
    .option("--client-id <id>", "Kakunin's client id at the provider")
    .option("--client-secret-stdin", "read the client secret from the first line of standard input (stored sealed, never printed)")
    .option("--login-claim <claim>", "the ID token's claim matched against login ids (default email for a new setting)")
    .option("--domain <domains>", "e-mail domains (comma-separated) whose login ids the login page sends to this provider")
    .addOption(new Option("--create-accounts", "a sign-in may create a missing officer (default off)"))
    .addOption(new Option("--no-create-accounts", "a sign-in never creates an officer"))
    .addOption(new Option("--provider-mfa", "the provider's second factor (amr/acr) counts as Kakunin's (default off)"))
    .addOption(new Option("--no-provider-mfa", "officers need Kakunin's own second factor where required"))
    .addOption(new Option("--show", "print the setting (without the secret)").conflicts(["remove", "issuer", "clientId", "clientSecretStdin", "loginClaim", "domain"]))
    .addOption(new Option("--remove", "remove the setting: officers log in with their password again").conflicts(["issuer", "clientId", "clientSecretStdin", "loginClaim", "domain"]))
    .action(run(async (code: string, opts: SsoOptions, cmd: Command) => {
      if (opts.show) {
        return ctx.withServices(cmd, (s) => {
          const shown = s.ssoSettings.show(code);
          if (!shown.ok) return ctx.refuse(shown.problems);
          if (!shown.value) ctx.out(`${code.trim()} has no identity provider set`);
          else print(shown.value);
          return 0;
        });
      }
      if (opts.remove) {
        return ctx.withServices(cmd, (s) => {
          const removed = s.ssoSettings.remove(code, ctx.deps.actor);
          if (!removed.ok) return ctx.refuse(removed.problems);
          ctx.out(`identity provider of ${removed.value} removed`);
          return 0;
        });
      }
      const secret = opts.clientSecretStdin ? await ctx.readStdinLine("client secret (one line):") : undefined;
      if (opts.clientSecretStdin && !secret) return ctx.refuse([{ field: "client-secret", message: "no client secret on standard input" }]);
      return ctx.withServices(cmd, (s) => {
        const set = s.ssoSettings.configure(code, {
          issuer: opts.issuer, clientId: opts.clientId, clientSecret: secret, loginClaim: opts.loginClaim,
          createAccounts: opts.createAccounts, providerMfa: opts.providerMfa, domains: opts.domain?.split(","),
        }, ctx.deps.actor);
        if (!set.ok) return ctx.refuse(set.problems);
        print(set.value);
        ctx.err(`Register this redirect URI with the provider: ${ctx.config().mail.publicBaseUrl}/login/sso/callback`);
        return 0;
      });
    }));
}
