import * as client from "openid-client";

/** Why the provider's answer was not accepted, for the audit (the officer sees one message). */
export type GrantFailure =
  | "provider-refused" | "wrong-state" | "code-refused" | "wrong-audience" | "wrong-nonce" | "wrong-issuer" | "id-token-refused" | "provider-unreachable";

/** What the ID token vouches for. */
export type VouchedClaims = Record<string, unknown> & { sub: string };

export type ProviderClient = { issuer: string; clientId: string; clientSecret: string; cacheKey: string };

export type Checks = { state: string; nonce: string; codeVerifier: string };

/** Discovery documents are kept this long: a provider's moved endpoints are picked up within the hour. */
const DISCOVERY_TTL_MS = 3600_000;
/** A failed discovery is remembered this long: a dead provider is not asked again on every click (DOS-05). */
export const DISCOVERY_RETRY_MS = 30_000;

/**
 * The relying party over openid-client: one discovery per provider (cached per setting, so a
 * changed setting is discovered again), the authorization URL with PKCE (S256), state and nonce,
 * and the code grant, whose ID token openid-client checks (signature, iss, aud, azp, exp, nonce).
 * `allowHttp`: plain-HTTP providers, only outside production and only on loopback (the tests).
 */
export function createRelyingParty(options: { redirectUri: string; allowHttp: boolean }) {
  // The discovery itself is kept, not its result: clicks while one is under way wait for it, and a
  // failure answers every click until it runs out.
  const cache = new Map<string, { discovery: Promise<client.Configuration>; until: number }>();

  function configure(provider: ProviderClient): Promise<client.Configuration> {
    const cached = cache.get(provider.cacheKey);
    if (cached && cached.until > Date.now()) return cached.discovery;
    const insecure = options.allowHttp && new URL(provider.issuer).protocol === "http:";
    const discovery = client.discovery(
      new URL(provider.issuer), provider.clientId, { client_secret: provider.clientSecret, redirect_uris: [options.redirectUri], response_types: ["code"] },
      client.ClientSecretBasic(provider.clientSecret), insecure ? { execute: [client.allowInsecureRequests], timeout: 10 } : { timeout: 10 },
    );
    const entry = { discovery, until: Infinity };
    cache.set(provider.cacheKey, entry);
    discovery.then(
      () => { entry.until = Date.now() + DISCOVERY_TTL_MS; },
      () => { entry.until = Date.now() + DISCOVERY_RETRY_MS; },
    );
    return discovery;
  }

  return {
    /** The provider's authorization URL for this sign-in (discovering the provider first if needed). */
    async authorizationUrl(provider: ProviderClient, checks: Checks): Promise<URL> {
      const config = await configure(provider);
      return client.buildAuthorizationUrl(config, {
        redirect_uri: options.redirectUri,
        scope: "openid email profile",
        response_type: "code",
        state: checks.state,
        nonce: checks.nonce,
        code_challenge: await client.calculatePKCECodeChallenge(checks.codeVerifier),
        code_challenge_method: "S256",
      });
    },

    /** Checks the provider's answer (`query`: the callback's query string) and redeems its code. */
    async redeem(provider: ProviderClient, query: string, checks: Checks): Promise<{ ok: true; claims: VouchedClaims } | { ok: false; reason: GrantFailure; detail: string }> {
      const current = new URL(options.redirectUri);
      current.search = query;
      try {
        const config = await configure(provider);
        const tokens = await client.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: checks.codeVerifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true,
        });
        const claims = tokens.claims();
        if (!claims) return { ok: false, reason: "id-token-refused", detail: "no ID token" };
        return { ok: true, claims: claims as VouchedClaims };
      } catch (error) {
        return { ok: false, reason: classify(error), detail: describe(error) };
      }
    },
  };
}

export type RelyingParty = ReturnType<typeof createRelyingParty>;

function classify(error: unknown): GrantFailure {
  if (error instanceof client.AuthorizationResponseError) return "provider-refused";
  if (error instanceof client.ResponseBodyError) return "code-refused";
  if (error instanceof TypeError || (error as Error)?.name === "AbortError" || (error as Error)?.name === "TimeoutError") return "provider-unreachable";
  const e = error as { code?: string; cause?: { message?: string; cause?: { claim?: string } } };
  // openid-client wraps oauth4webapi's error: its message and the claim it compared are on the cause.
  const message = e.cause?.message ?? "";
  if (/"state" response parameter/.test(message)) return "wrong-state";
  if (e.code === "OAUTH_JWT_CLAIM_COMPARISON_FAILED") {
    const claim = e.cause?.cause?.claim ?? /"(aud|azp|nonce|iss)"/.exec(message)?.[1];
    if (claim === "aud" || claim === "azp") return "wrong-audience";
    if (claim === "nonce") return "wrong-nonce";
    if (claim === "iss") return "wrong-issuer";
  }
  if (e.code === "OAUTH_RESPONSE_IS_NOT_CONFORM" || e.code === "OAUTH_RESPONSE_IS_NOT_JSON") return "provider-unreachable";
  return "id-token-refused";
}

/** What went wrong, for the audit's detail: the library's messages name claims and parameters, never a token's value. */
function describe(error: unknown): string {
  if (error instanceof client.ResponseBodyError || error instanceof client.AuthorizationResponseError) return error.error;
  const outer = error instanceof Error ? error.message : String(error);
  const inner = (error as { cause?: { message?: string } })?.cause?.message;
  return (inner ? `${outer}: ${inner}` : outer).slice(0, 200);
}
