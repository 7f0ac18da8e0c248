import { expect } from "chai";
import { Argon2BusyError, limitArgon2 } from "../../src/security/argon2-limiter.js";
import type { Hasher } from "../../src/security/hasher.js";

/** A hasher whose verifications finish only when the test says so. */
function gatedHasher() {
  const pending: (() => void)[] = [];
  let started = 0;
  const wait = () => new Promise<void>((resolve) => { started++; pending.push(resolve); });
  const hasher: Hasher = {
    params: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
    hash: async () => { await wait(); return "$argon2id$"; },
    verify: async () => { await wait(); return false; },
    verifyDummy: async () => { await wait(); return false; },
    needsRehash: () => false,
  };
  return { hasher, started: () => started, finishOne: () => pending.shift()?.(), settle: () => new Promise((r) => setImmediate(r)) };
}

describe("security: the argon2 concurrency cap", () => {
  it("when more work arrives than slots and queue hold, then the excess is refused at once with its Retry-After (the app's 503), before any argon2 work", async () => {
    const gate = gatedHasher();
    const limited = limitArgon2(gate.hasher, { concurrency: 2, queue: 3, retryAfterSeconds: 1 });
    const outcomes: string[] = [];
    const calls = Array.from({ length: 8 }, (_, i) =>
      limited.verify("h", `s${i}`).then(() => outcomes.push(`done ${i}`), (e: unknown) => {
        expect(e).to.be.instanceOf(Argon2BusyError);
        expect(e).to.include({ retryAfterSeconds: 1 });
        outcomes.push(`busy ${i}`);
      }));
    await gate.settle();
    expect(gate.started()).to.equal(2);
    expect(limited.load()).to.deep.equal({ running: 2, waiting: 3 });
    expect(outcomes).to.deep.equal(["busy 5", "busy 6", "busy 7"]);
    for (let i = 0; i < 5; i++) { gate.finishOne(); await gate.settle(); }
    await Promise.all(calls);
    expect(gate.started()).to.equal(5);
    expect(outcomes.slice(3)).to.deep.equal(["done 0", "done 1", "done 2", "done 3", "done 4"]);
    expect(limited.load()).to.deep.equal({ running: 0, waiting: 0 });
  });

  it("when a verification throws, then its slot is still given back", async () => {
    const failing: Hasher = {
      params: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
      hash: () => Promise.reject(new Error("boom")),
      verify: () => Promise.reject(new Error("boom")),
      verifyDummy: () => Promise.reject(new Error("boom")),
      needsRehash: () => false,
    };
    const limited = limitArgon2(failing, { concurrency: 1, queue: 0, retryAfterSeconds: 1 });
    for (let i = 0; i < 3; i++) await limited.verify("h", "s").catch(() => undefined);
    expect(limited.load()).to.deep.equal({ running: 0, waiting: 0 });
  });
});
