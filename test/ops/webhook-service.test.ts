import { expect } from "chai";
import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { main } from "../../scripts/admin.js";
import { signatureIsValid, startReceiver } from "../notifications/webhook-receiver.js";
import { reap, spawnTs } from "./support/processes.js";
import { startServer, TEST_SESSION_SECRET, type ServerChild } from "./support/server.js";
import { loadOrCreateSealingKey } from "../../src/security/sealed-box.js";

/** The admin CLI in this process, over the server's database, as an administrator would run it. */
async function admin(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const status = await main(args, { stdout: { write: (s: string) => { stdout += s; } }, stderr: { write: (s: string) => { stderr += s; } }, env, actor: "ops-test" });
  return { status, stdout, stderr };
}

describe("webhooks through the running service", () => {
  let dir: string;
  let server: ServerChild | undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "kakunin-hooks-"));
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await reap(server);
    server = undefined;
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("when the service starts, it makes its webhook key (0600, .pub beside it); an endpoint added by the CLI at a host name gets the service's ping, signed with the secret the CLI printed", async () => {
    const databasePath = path.join(dir, "kakunin.sqlite");
    // NODE_ENV=test: the receiver is on loopback, which production refuses.
    server = await startServer(databasePath, { NODE_ENV: "test" });
    const keyFile = path.join(dir, "webhook-key.pem");
    expect(statSync(keyFile).mode & 0o777).to.equal(0o600);
    expect(statSync(`${keyFile}.pub`).isFile()).to.equal(true);

    const env = { NODE_ENV: "test", DATABASE_PATH: databasePath };
    expect((await admin(env, "orderer", "add", "--code", "022080", "--name", "むつ市")).status).to.equal(0);
    const added = await admin(env, "webhook", "add", "--orderer", "022080", "--url", `http://localhost:${new URL(receiver.url).port}/hooks`, "--json");
    expect(added.status, added.stderr).to.equal(0);
    const { endpoint_id: endpointId, secret } = JSON.parse(added.stdout) as { endpoint_id: string; secret: string };

    const tested = await admin(env, "webhook", "test", endpointId, "--wait", "15");
    expect(tested.status, tested.stderr).to.equal(0);
    expect(receiver.received).to.have.length(1);
    expect(JSON.parse(receiver.received[0]!.body).type).to.equal("ping");
    expect(signatureIsValid(secret, receiver.received[0]!), "signed by the service with the secret the CLI printed").to.equal(true);
    expect(server.stdout()).not.to.include(secret.slice("whsec_".length));
  });

  it("when the webhook key may be read by others, then the service refuses to start and says why", async () => {
    const keyFile = path.join(dir, "webhook-key.pem");
    loadOrCreateSealingKey(keyFile);
    chmodSync(keyFile, 0o644);
    const child = spawnTs("src/start.cts", [], {
      NODE_ENV: "production", SESSION_SECRET: TEST_SESSION_SECRET, COOKIE_SECURE: "false", PORT: "0", HOST: "127.0.0.1", DATABASE_PATH: path.join(dir, "kakunin.sqlite"),
    });
    expect(await child.exited).to.equal(1);
    expect(child.stderr()).to.include(`the webhook key ${keyFile} has mode 0644: it must be readable by the service's user only (chmod 600)`);
  });
});
