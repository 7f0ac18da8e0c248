import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect } from "chai";

/**
 * The whole app in a child process whose zone is not Tokyo's: the pages' dates must not move.
 * A child, because the zone a Node process reads dates in is fixed when it first formats one, so
 * setting TZ inside this mocha process would prove nothing.
 */
describe("guarantee pages in another time zone", () => {
  it("when the server runs in America/Los_Angeles at 00:30 Tokyo time, then every page shows Tokyo's date and the guarantee that expired the day before is 期限切れ", function () {
    this.timeout(60_000);
    const url = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    const script = `
      const { buildTestApp } = await import(${url("../support/web.ts")});
      const { givenVerifiedSample, textOf } = await import(${url("./guarantees.helpers.ts")});
      const world = await buildTestApp();
      try {
        // 2026-11-24 15:30 UTC: 2026-11-25 00:30 in Tokyo, 2026-11-24 07:30 in Los Angeles.
        world.clock.set("2026-11-24T15:30:00Z");
        const { agent } = await givenVerifiedSample(world, {
          periodFrom: "2026-09-01", periodTo: "2026-11-20", contractDate: "2026-08-28", issuedOn: "2026-09-02", guaranteeExpiry: "2026-11-24",
        });
        const page = async (path) => textOf((await agent.get(path)).text);
        console.log(JSON.stringify({
          zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
          localDate: new Date().toString(),
          summary: await page("/guarantees/02208-000001"),
          certificate: await page("/guarantees/02208-000001/certificate"),
          list: await page("/verified"),
        }));
      } finally {
        world.close();
      }
    `;
    const output = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL("../../", import.meta.url)),
      env: { ...process.env, TZ: "America/Los_Angeles", NODE_ENV: "test" },
      encoding: "utf8",
    });
    const pages = JSON.parse(output.trim().split("\n").pop()!) as Record<string, string>;
    expect(pages.zone, "the child really ran in that zone").to.equal("America/Los_Angeles");
    expect(pages.summary).to.contain("2026/11/25 00:30 新規");
    expect(pages.summary).to.contain("状態: 期限切れ 保証期限（令和8年11月24日）を過ぎています。");
    expect(pages.certificate).to.contain("令和8年9月2日 保証証書（前払金保証）");
    expect(pages.certificate).to.contain("工期 令和8年9月1日 ～ 令和8年11月20日");
    expect(pages.certificate).to.contain("発注契約日 令和8年8月28日");
    expect(pages.certificate).to.contain("保証期限 令和8年11月24日");
    expect(pages.certificate).to.contain("確認日時 令和8年11月25日 00:30 状態 期限切れ");
    expect(pages.list).to.contain("期限切れ");
    expect(pages.list).to.contain("令和8年11月25日 00:30");
  });
});
