import http from "node:http";

/** One keep-alive agent for the whole benchmark: sockets are pooled per local address. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });

export type Reply = { status: number; location?: string; body: string };

/**
 * A browser-like session against the server under test: it keeps the session cookie and can
 * connect from its own loopback address (127.0.x.y), so that per-address throttles count each
 * benchmark officer apart, as they would count officers behind different offices' gateways.
 */
export class Session {
  private readonly cookies = new Map<string, string>();
  csrfToken?: string;

  constructor(private readonly base: URL, readonly localAddress?: string) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  request(method: "GET" | "POST", path: string, form?: Record<string, string>, readBody = true): Promise<Reply> {
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const headers: Record<string, string> = {};
    if (this.cookies.size > 0) headers.cookie = this.cookieHeader;
    if (body !== undefined) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      headers["content-length"] = String(Buffer.byteLength(body));
    }
    return send({ host: this.base.hostname, port: this.base.port, path, method, headers, agent, localAddress: this.localAddress }, body, readBody, (res) => {
      for (const raw of res.headers["set-cookie"] ?? []) {
        const [pair] = raw.split(";");
        const eq = pair!.indexOf("=");
        if (eq > 0) this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
      }
    });
  }

  /** Reads the hidden _csrf of the form on `path` (the synchroniser token kept in the session). */
  async fetchCsrf(path: string): Promise<string> {
    const page = await this.request("GET", path);
    const match = /name="_csrf" value="([^"]+)"/.exec(page.body);
    if (!match) throw new Error(`no CSRF token on ${path} (status ${page.status})`);
    this.csrfToken = match[1]!;
    return this.csrfToken;
  }

  /** GET /login for the token, POST /login; true when the server answered 303 (logged in). */
  async login(username: string, password: string): Promise<Reply> {
    const csrf = await this.fetchCsrf("/login");
    return this.request("POST", "/login", { _csrf: csrf, username, password });
  }
}

/**
 * An API call: a JSON body (or a form for the token endpoint) and an Authorization header, from a
 * loopback address of its own, over the same keep-alive agent as the sessions.
 */
export function requestApi(base: URL, localAddress: string | undefined, method: "GET" | "POST", path: string,
  options: { authorization?: string; json?: unknown; form?: Record<string, string> } = {}, readBody = true): Promise<Reply> {
  const body = options.json !== undefined ? JSON.stringify(options.json) : options.form ? new URLSearchParams(options.form).toString() : undefined;
  const headers: Record<string, string> = {};
  if (options.authorization) headers.authorization = options.authorization;
  if (body !== undefined) {
    headers["content-type"] = options.json !== undefined ? "application/json" : "application/x-www-form-urlencoded";
    headers["content-length"] = String(Buffer.byteLength(body));
  }
  return send({ host: base.hostname, port: base.port, path, method, headers, agent, localAddress }, body, readBody);
}

/** One request: its status, Location and (when `readBody`) body; `onHeaders` sees the response first. */
function send(request: http.RequestOptions, body: string | undefined, readBody: boolean, onHeaders?: (res: http.IncomingMessage) => void): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(request, (res) => {
      onHeaders?.(res);
      let text = "";
      if (readBody) res.setEncoding("utf8");
      res.on("data", (chunk: string) => { if (readBody) text += chunk; });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The n-th benchmark client address: 127.0.1.2, 127.0.1.3, … (all of 127/8 is loopback on Linux). */
export function loopbackAddress(n: number): string | undefined {
  if (process.platform !== "linux") return undefined;
  return `127.0.${1 + Math.floor(n / 250)}.${2 + (n % 250)}`;
}

export function closeConnections(): void {
  agent.destroy();
}
