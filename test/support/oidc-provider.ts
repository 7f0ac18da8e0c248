import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import Provider from "oidc-provider";

/** What the provider says about an account: its claims, and how it was authenticated (amr/acr). */
export type ProviderAccount = { claims: Record<string, unknown>; amr?: string[]; acr?: string };

export type ProviderClient = { clientId: string; clientSecret: string; redirectUri: string };

export type TestProvider = {
  issuer: string;
  /** Accounts by the id typed at the provider's sign-in page. */
  accounts: Map<string, ProviderAccount>;
  /** The token endpoint's next answer, replaced once (an ID token issued to another client, say). */
  replaceNextTokenResponse(body: string): void;
  close(): Promise<void>;
};

/**
 * A real OpenID provider (oidc-provider 8) on loopback, for the tests: authorization code with
 * PKCE required, its own plain sign-in page at /interaction/:uid (a login field and a button), the
 * scopes' claims in the ID token, consent taken as given. `host`: "localhost" makes it another
 * site than Kakunin on 127.0.0.1 for the browser.
 */
export async function startTestProvider(options: { clients: ProviderClient[]; host?: "127.0.0.1" | "localhost" }): Promise<TestProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://${options.host ?? "127.0.0.1"}:${(server.address() as AddressInfo).port}`;
  const accounts = new Map<string, ProviderAccount>();
  let replacement: string | undefined;
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({
      client_id: c.clientId, client_secret: c.clientSecret, redirect_uris: [c.redirectUri], grant_types: ["authorization_code"], response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    })),
    jwks: { keys: [{ ...(await exportJWK(privateKey)), use: "sig", alg: "RS256", kid: "test" }] },
    cookies: { keys: ["kakunin-test-provider-cookie-key"] },
    claims: { openid: ["sub", "acr", "amr"], email: ["email", "email_verified"], profile: ["name", "preferred_username"] },
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
    findAccount: (_ctx: unknown, id: string) => accounts.has(id) ? { accountId: id, claims: () => ({ sub: id, ...accounts.get(id)!.claims }) } : undefined,
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    async loadExistingGrant(ctx: any) {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope("openid email profile");
      await grant.save();
      return grant;
    },
    renderError(ctx: any, out: Record<string, string>) {
      ctx.type = "text/plain";
      ctx.body = `provider error: ${out.error}`;
    },
  });
  const callback = provider.callback();

  server.on("request", (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", issuer);
      const interaction = /^\/interaction\/([\w-]+)(\/login)?$/.exec(url.pathname);
      if (interaction && req.method === "GET" && !interaction[2]) {
        await provider.interactionDetails(req, res);
        res.setHeader("Content-Type", "text/html; charset=utf-8");
        res.end(`<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>Test provider</title></head><body>
<h1>Test provider sign-in</h1><form method="post" action="/interaction/${interaction[1]}/login">
<label for="login">Login</label><input id="login" name="login"><button type="submit">Sign in</button></form></body></html>`);
        return;
      }
      if (interaction && req.method === "POST" && interaction[2]) {
        const login = new URLSearchParams(await bodyOf(req)).get("login") ?? "";
        const account = accounts.get(login);
        const result = account ? { login: { accountId: login, amr: account.amr, acr: account.acr } } : { error: "access_denied" };
        await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
        return;
      }
      if (url.pathname === "/token" && replacement !== undefined) {
        const body = replacement;
        replacement = undefined;
        await bodyOf(req);
        res.setHeader("Content-Type", "application/json");
        res.end(body);
        return;
      }
      callback(req, res);
    })().catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });

  return {
    issuer,
    accounts,
    replaceNextTokenResponse: (body) => { replacement = body; },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function bodyOf(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => { body += chunk; });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

/**
 * A browser's way through the provider without a browser: follows the authorization URL, signs in
 * as `login` on the provider's page and returns the URL the provider sends the browser back to.
 */
export async function signInAtProvider(authorizationUrl: string, login: string): Promise<URL> {
  const jar = new Map<string, string>();
  const send = async (url: string, init: RequestInit = {}) => {
    const res = await fetch(url, { ...init, redirect: "manual", headers: { ...(init.headers as Record<string, string>), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") } });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const at = pair!.indexOf("=");
      jar.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    await res.arrayBuffer();
    return res;
  };
  const toInteraction = await send(authorizationUrl);
  const interaction = new URL(toInteraction.headers.get("location")!, authorizationUrl);
  await send(interaction.href);
  const resumed = await send(`${interaction.href}/login`, { method: "POST", body: new URLSearchParams({ login }), headers: { "content-type": "application/x-www-form-urlencoded" } });
  const back = await send(new URL(resumed.headers.get("location")!, authorizationUrl).href);
  return new URL(back.headers.get("location")!, authorizationUrl);
}
