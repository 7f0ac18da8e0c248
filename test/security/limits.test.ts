import { expect } from "chai";
import { ConfigError, loadConfig, PRODUCTION_LIMITS } from "../../src/config.js";
import type { AttemptThrottle, ThrottleKey } from "../../src/throttling/attempt-throttle.js";
import { buildWorld, type World } from "../support/world.js";
import { HOUR, MINUTE } from "./helpers.js";

describe("security: the production limits", () => {
  it("when the config is loaded without overrides, then every limit is the documented production number", () => {
    const { limits } = loadConfig({ NODE_ENV: "production", SESSION_SECRET: "x".repeat(32), UV_THREADPOOL_SIZE: "4" });
    expect(limits.login).to.deep.equal({ kind: "consecutive", delayFrom: 5, firstDelayMs: 30_000, maxDelayMs: HOUR, lockAt: 100 });
    expect(limits.officer).to.deep.equal({ kind: "window", limit: 10, windowMs: 15 * MINUTE, blockMs: 15 * MINUTE });
    expect(limits.contract).to.deep.equal({ kind: "consecutive", delayFrom: 20, firstDelayMs: 30_000, maxDelayMs: HOUR, lockAt: 100 });
    expect(limits.address).to.deep.equal({ kind: "window", limit: 100, windowMs: 24 * HOUR, blockMs: 24 * HOUR });
    expect(limits.device).to.deep.equal({ kind: "window", limit: 10, windowMs: HOUR, blockMs: HOUR });
    expect(limits.officerContract).to.deep.equal({ kind: "consecutive", delayFrom: 10, firstDelayMs: 30_000, maxDelayMs: HOUR, lockAt: 100 });
    expect(limits.form).to.deep.equal({ maxBytes: 4096, maxFields: 10 });
    expect(limits.argon2).to.deep.equal({ concurrency: 8, queue: 32, retryAfterSeconds: 1 });
    expect(limits.server).to.include({ headersTimeoutMs: 20_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, maxHeadersCount: 100, maxHeaderSize: 16384 });
    expect(limits.session).to.deep.equal({ idleMs: 30 * MINUTE, absoluteMs: 8 * HOUR, anonymousLifetimeMs: 15 * MINUTE });
    expect(limits.newSessions).to.deep.equal({ perAddress: 100, windowMs: 10 * MINUTE });
    expect(Object.isFrozen(limits.login)).to.equal(true);
  });

  it("when NODE_ENV=production, then overriding a limit is refused; in tests it is merged over the production numbers", () => {
    expect(() => loadConfig({ NODE_ENV: "production", SESSION_SECRET: "x".repeat(32) }, { limits: { login: { lockAt: 1e9 } } }))
      .to.throw(ConfigError, /cannot be overridden/);
    const test = loadConfig({ NODE_ENV: "test" }, { limits: { login: { lockAt: 1e9 } } });
    expect(test.limits.login).to.deep.equal({ ...PRODUCTION_LIMITS.login, lockAt: 1e9 });
    expect(test.limits.officer).to.deep.equal(PRODUCTION_LIMITS.officer);
  });

  it("when NEW_SESSIONS_PER_ADDRESS is set, then it replaces the cap of new anonymous sessions per address, in production too; nonsense is refused", () => {
    const production = { NODE_ENV: "production", SESSION_SECRET: "x".repeat(32) };
    expect(loadConfig({ ...production, NEW_SESSIONS_PER_ADDRESS: "2000" }).limits.newSessions).to.deep.equal({ perAddress: 2000, windowMs: 10 * MINUTE });
    for (const bad of ["0", "-5", "lots", ""]) {
      expect(() => loadConfig({ ...production, NEW_SESSIONS_PER_ADDRESS: bad }), bad).to.throw(ConfigError, /NEW_SESSIONS_PER_ADDRESS/);
    }
  });

  it("when LOGIN_FAILURES_PER_ADDRESS_PER_DAY is set, then it replaces the daily cap of failed anonymous logins per address, in production too; nonsense is refused", () => {
    const production = { NODE_ENV: "production", SESSION_SECRET: "x".repeat(32) };
    expect(loadConfig({ ...production, LOGIN_FAILURES_PER_ADDRESS_PER_DAY: "5000" }).limits.address).to.deep.equal({ kind: "window", limit: 5000, windowMs: 24 * HOUR, blockMs: 24 * HOUR });
    for (const bad of ["0", "-5", "lots", "", "1.5"]) {
      expect(() => loadConfig({ ...production, LOGIN_FAILURES_PER_ADDRESS_PER_DAY: bad }), bad).to.throw(ConfigError, /LOGIN_FAILURES_PER_ADDRESS_PER_DAY must be an integer from 1 to 1000000/);
    }
  });

  it("when NODE_ENV is unset, then the service behaves as in production: no built-in secret, Secure cookies, and limits cannot be lowered", () => {
    for (const unset of [{}, { NODE_ENV: "" }]) {
      expect(() => loadConfig(unset)).to.throw(ConfigError, /SESSION_SECRET is required when NODE_ENV=production/);
      const config = loadConfig({ ...unset, SESSION_SECRET: "x".repeat(32) });
      expect(config).to.deep.include({ nodeEnv: "production", cookieSecure: true });
      expect(() => loadConfig({ ...unset, SESSION_SECRET: "x".repeat(32) }, { limits: { login: { lockAt: 1e9 } } })).to.throw(ConfigError, /cannot be overridden/);
    }
    expect(loadConfig({ NODE_ENV: "development" }).sessionSecrets).to.have.length(1);
    expect(loadConfig({}, { sessionSecret: "optional" }).sessionSecrets, "the admin CLI may run without it").to.deep.equal([]);
  });

  it("when SESSION_SECRET lists several secrets, then all are kept in order (the first signs), and each must be 32 bytes or more", () => {
    const [current, previous] = ["n".repeat(32), "o".repeat(40)];
    expect(loadConfig({ NODE_ENV: "production", SESSION_SECRET: `${current}, ${previous}` }).sessionSecrets).to.deep.equal([current, previous]);
    expect(() => loadConfig({ NODE_ENV: "production", SESSION_SECRET: `${current},short` }))
      .to.throw(ConfigError, /SESSION_SECRET: secret 2 of 2 must be at least 32 bytes long/);
  });

  it("when the libuv pool is resized, then twice its threads are handed argon2 work at once; a nonsense size is refused", () => {
    expect(loadConfig({ NODE_ENV: "test", UV_THREADPOOL_SIZE: "2" }).limits.argon2.concurrency).to.equal(4);
    expect(loadConfig({ NODE_ENV: "test" }).limits.argon2.concurrency).to.equal(8);
    expect(loadConfig({ NODE_ENV: "test", UV_THREADPOOL_SIZE: "8", ARGON2_CONCURRENCY: "2" }).limits.argon2.concurrency).to.equal(2);
    expect(() => loadConfig({ NODE_ENV: "test", ARGON2_CONCURRENCY: "0" })).to.throw(ConfigError, /ARGON2_CONCURRENCY/);
    expect(() => loadConfig({ NODE_ENV: "test", UV_THREADPOOL_SIZE: "lots" })).to.throw(ConfigError, /UV_THREADPOOL_SIZE/);
  });
});

describe("security: the attempt throttle with the production numbers", () => {
  let world: World;
  beforeEach(async () => { world = await buildWorld(); });
  afterEach(() => world.close());

  const login = (key = "mutsu-tanaka"): ThrottleKey => ({ scope: "login", key, policy: PRODUCTION_LIMITS.login });
  const officer = (key = "1"): ThrottleKey => ({ scope: "officer", key, policy: PRODUCTION_LIMITS.officer });
  const contract = (key = "02208-000001"): ThrottleKey => ({ scope: "contract", key, policy: PRODUCTION_LIMITS.contract });
  const address = (key = "192.0.2.1"): ThrottleKey => ({ scope: "address", key, policy: PRODUCTION_LIMITS.address });

  /** Fails one attempt; returns the wait in seconds if it was refused instead. */
  function fail(throttle: AttemptThrottle, keys: ThrottleKey[]): number | "failed" {
    const attempt = throttle.reserve(keys);
    if (!attempt.allowed) return attempt.locked ? Infinity : attempt.retryAfterSeconds;
    attempt.failed();
    return "failed";
  }

  it("when a login fails five times, then a delay of 30 s starts and doubles with each failure up to one hour", () => {
    const throttle = world.services.attempts;
    for (let i = 1; i <= 5; i++) expect(fail(throttle, [login()]), `failure ${i}`).to.equal("failed");
    const delays: number[] = [];
    for (let failure = 6; failure <= 14; failure++) {
      const wait = fail(throttle, [login()]) as number;
      delays.push(wait);
      world.clock.advance(wait * 1000 - 1000);
      expect(fail(throttle, [login()]), "one second early").to.equal(1);
      world.clock.advance(1000);
      expect(fail(throttle, [login()]), `failure ${failure}`).to.equal("failed");
    }
    expect(delays).to.deep.equal([30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
  });

  it("when a login has failed 100 times in a row, then it is locked however long one waits", () => {
    const throttle = world.services.attempts;
    let failures = 0;
    for (let turn = 1; failures < 100; turn++) {
      if (turn > 400) throw new Error(`only ${failures} failures after 400 tries`);
      const outcome = fail(throttle, [login()]);
      if (outcome === "failed") failures++;
      else world.clock.advance(outcome * 1000);
    }
    world.clock.advance(365 * 24 * HOUR);
    const attempt = throttle.reserve([login()]);
    expect(attempt).to.deep.include({ allowed: false, locked: true });
  });

  it("when a login succeeds, then its run of failures starts again", () => {
    const throttle = world.services.attempts;
    for (let i = 0; i < 4; i++) fail(throttle, [login()]);
    const attempt = throttle.reserve([login()]);
    if (!attempt.allowed) throw new Error("refused");
    attempt.succeeded();
    for (let i = 0; i < 4; i++) expect(fail(throttle, [login()])).to.equal("failed");
  });

  it("when an officer fails ten verifications in 15 minutes, then they are blocked for 15 minutes, then free again", () => {
    const throttle = world.services.attempts;
    for (let i = 0; i < 10; i++) {
      expect(fail(throttle, [officer()])).to.equal("failed");
      world.clock.advance(MINUTE);
    }
    // The 10th failure came at minute 9: blocked until minute 24.
    expect(fail(throttle, [officer()])).to.equal(14 * 60);
    world.clock.advance(14 * MINUTE - 1000);
    expect(fail(throttle, [officer()])).to.equal(1);
    world.clock.advance(1000);
    expect(fail(throttle, [officer()])).to.equal("failed");
  });

  it("when the 15-minute window has passed, then earlier failures no longer count, but a block lasts its full 15 minutes", () => {
    const throttle = world.services.attempts;
    for (let i = 0; i < 9; i++) fail(throttle, [officer()]);
    world.clock.advance(15 * MINUTE);
    for (let i = 0; i < 9; i++) expect(fail(throttle, [officer()])).to.equal("failed");
    world.clock.advance(14 * MINUTE);
    expect(fail(throttle, [officer()])).to.equal("failed"); // the 10th in this window: blocked from now
    world.clock.advance(2 * MINUTE); // the window rolls over, the block does not
    expect(fail(throttle, [officer()])).to.equal(13 * 60);
  });

  it("when a contract number fails 20 times in a row, then the progressive delay starts, and at 100 it is locked", () => {
    const throttle = world.services.attempts;
    for (let i = 1; i <= 19; i++) expect(fail(throttle, [contract()]), `failure ${i}`).to.equal("failed");
    expect(fail(throttle, [contract()]), "failure 20").to.equal("failed");
    expect(fail(throttle, [contract()])).to.equal(30);
    let failures = 20;
    for (let turn = 1; failures < 100; turn++) {
      if (turn > 400) throw new Error(`only ${failures} failures after 400 tries`);
      const outcome = fail(throttle, [contract()]);
      if (outcome === "failed") failures++;
      else world.clock.advance(outcome * 1000);
    }
    world.clock.advance(30 * 24 * HOUR);
    expect(throttle.reserve([contract()])).to.deep.include({ allowed: false, locked: true });
  });

  it("when a client address fails 100 times in a day, then it is blocked for 24 hours", () => {
    const throttle = world.services.attempts;
    for (let i = 0; i < 100; i++) {
      expect(fail(throttle, [address()]), `failure ${i + 1}`).to.equal("failed");
      world.clock.advance(10 * MINUTE);
    }
    expect(fail(throttle, [address()])).to.equal(24 * 3600 - 600);
    expect(fail(throttle, [address("192.0.2.2")])).to.equal("failed");
  });

  it("when a careful officer fails 5 times per officer and per number and the office 50 times, all within 15 minutes, then none of it is throttled", () => {
    const throttle = world.services.attempts;
    // Ten officers of one office (one address) each fail once on each of five numbers: 5 failures
    // per officer, 10 per number, 50 for the address, all within a minute.
    for (let o = 1; o <= 10; o++) {
      for (let i = 0; i < 5; i++) {
        const keys = [officer(String(o)), contract(`02208-00000${i}`), address()];
        expect(fail(throttle, keys), `officer ${o}, failure ${i + 1}`).to.equal("failed");
        world.clock.advance(1000);
      }
    }
    // The throttle holds all 50: five against each officer, ten against each number, 50 against the
    // address, and none of them blocked or locked.
    const held = (key: ThrottleKey) => world.repositories.throttleCounters.get(key.scope, key.key);
    for (let o = 1; o <= 10; o++) expect(held(officer(String(o))), `officer ${o}`).to.include({ failures: 5, blocked_until: 0, locked: 0 });
    for (let i = 0; i < 5; i++) expect(held(contract(`02208-00000${i}`)), `number ${i}`).to.include({ failures: 10, blocked_until: 0, locked: 0 });
    expect(held(address())).to.include({ failures: 50, blocked_until: 0, locked: 0 });
    // ...and a number with ten failures still takes five more attempts.
    for (let o = 1; o <= 5; o++) {
      world.clock.advance(1000);
      expect(throttle.reserve([contract("02208-000000")]).allowed).to.equal(true);
    }
  });

  it("when an attempt is released (argon2 too busy), then it counts against nobody", () => {
    const throttle = world.services.attempts;
    for (let i = 0; i < 4; i++) fail(throttle, [login()]);
    for (let i = 0; i < 10; i++) {
      const attempt = throttle.reserve([login()]);
      if (!attempt.allowed) throw new Error(`refused after release ${i}`);
      attempt.release();
    }
    expect(fail(throttle, [login()])).to.equal("failed");
    expect(fail(throttle, [login()])).to.equal(30);
  });

  it("when 50 attempts are reserved before any is settled, then only the limit's worth is let through", () => {
    const throttle = world.services.attempts;
    const attempts = Array.from({ length: 50 }, () => throttle.reserve([login()]));
    expect(attempts.filter((a) => a.allowed)).to.have.length(5);
  });
});
