import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { projectRoot } from "../../../src/paths.js";

/** Debian's Chromium: never a browser downloaded by Playwright. */
export const CHROMIUM = "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

let skipAnnounced = false;

/**
 * For a suite's first `before`: skips the suite, saying so, when Chromium is missing, unless
 * KAKUNIN_REQUIRE_BROWSER=1 (CI), where a missing browser is a failure rather than a silent pass.
 */
export function requireChromium(ctx: Mocha.Context): void {
  if (existsSync(CHROMIUM)) return;
  if (process.env.KAKUNIN_REQUIRE_BROWSER === "1") {
    throw new Error(`${CHROMIUM} not found, and KAKUNIN_REQUIRE_BROWSER=1 makes the browser tests required (apt-get install chromium fonts-noto-cjk)`);
  }
  if (!skipAnnounced) console.log(`browser tests skipped: ${CHROMIUM} not found`);
  skipAnnounced = true;
  ctx.skip();
}

/** What a page did that no page of ours may do, collected until the test takes it. */
export type PageProblems = { take(): string[] };

export type Browser = {
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
  close(): Promise<void>;
};

/**
 * Headless Chromium in Japanese, in Tokyo, with a fresh profile (launch() refuses a user-data-dir,
 * hence the persistent context). Every page of the context reports CSP violations (the event
 * and the console line), uncaught script errors and failed or refused /static files.
 */
export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), "kakunin-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    locale: "ja-JP",
    timezoneId: "Asia/Tokyo",
    viewport: { width: 1366, height: 768 },
  });
  const found: string[] = [];
  // Bindings and init scripts go in through the DevTools protocol, so the page's CSP does not stop them.
  await context.exposeBinding("__kakuninReport", ({ page }, message: string) => void found.push(`${page.url()}: ${message}`));
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      (window as unknown as { __kakuninReport(m: string): void }).__kakuninReport(
        `CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"} (${event.sourceFile}:${event.lineNumber})`);
    });
  });
  const watch = (page: Page) => {
    page.on("console", (message) => {
      if (/Content[- ]Security[- ]Policy|Refused to/i.test(message.text())) found.push(`${page.url()}: console: ${message.text()}`);
    });
    page.on("pageerror", (error) => void found.push(`${page.url()}: script error: ${error.message}`));
    page.on("requestfailed", (request) => {
      if (new URL(request.url()).pathname.startsWith("/static/")) found.push(`${request.url()}: ${request.failure()?.errorText}`);
    });
    page.on("response", (response) => {
      if (new URL(response.url()).pathname.startsWith("/static/") && response.status() >= 400) found.push(`${response.url()}: ${response.status()}`);
    });
  };
  context.pages().forEach(watch);
  context.on("page", watch);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    problems: { take: () => found.splice(0) },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** test/artifacts/browser/<suite>/, emptied: the screenshots and PDFs of the last run only. */
export function artifactsDir(suite: string): string {
  const dir = path.join(projectRoot, "test", "artifacts", "browser", suite);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** True when the page does not scroll sideways at the current viewport. */
export async function fitsWidth(page: Page): Promise<{ ok: boolean; scrollWidth: number; clientWidth: number }> {
  return page.evaluate(() => {
    const { scrollWidth, clientWidth } = document.documentElement;
    return { ok: scrollWidth <= clientWidth, scrollWidth, clientWidth };
  });
}

/**
 * Presses Tab (or Shift+Tab) until the focused element matches `selector`, as a keyboard user
 * would, and checks that it shows where the focus is (an outline of 2px or more, or a ring);
 * fails when it is not reached within `max` presses. Returns the number of presses.
 */
export async function tabTo(page: Page, selector: string, options: { backwards?: boolean; max?: number } = {}): Promise<number> {
  const max = options.max ?? 40;
  for (let presses = 1; presses <= max; presses++) {
    await page.keyboard.press(options.backwards ? "Shift+Tab" : "Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) {
      const style = await page.evaluate(() => {
        const css = getComputedStyle(document.activeElement!);
        return { outline: `${css.outlineStyle} ${css.outlineWidth}`, ring: css.boxShadow };
      });
      const outlined = !style.outline.startsWith("none") && parseFloat(style.outline.split(" ")[1]!) >= 2;
      if (!outlined && style.ring === "none") throw new Error(`${selector} has the focus on ${page.url()} but shows no focus indicator`);
      return presses;
    }
  }
  const focused = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120));
  throw new Error(`${selector} not reached with ${max} ${options.backwards ? "Shift+Tab" : "Tab"} presses on ${page.url()} (focus on ${focused})`);
}

/** Presses `key` (Enter by default) on the focused element and waits until the page it leads to
 * has loaded, even when that page has the same URL (a form shown again with its errors). */
export async function pressAndWaitForPage(page: Page, key = "Enter"): Promise<URL> {
  const navigated = page.waitForEvent("framenavigated", { predicate: (frame) => frame === page.mainFrame() });
  await page.keyboard.press(key);
  await navigated;
  await page.waitForLoadState("load");
  return new URL(page.url());
}

/** The visible text of the page, whitespace collapsed, as the current media shows it. */
export async function visibleText(page: Page): Promise<string> {
  return (await page.locator("body").innerText()).replace(/\s+/g, " ");
}

/**
 * The characters of `sample` that the font of `selector` draws as a tofu box (or not at all): each
 * is drawn on a canvas and compared with a code point no font has, which is drawn as .notdef.
 * Plain JavaScript text, so that the TypeScript runner's helpers never reach the page.
 */
const DRAW_CHARACTERS = `({ selector, sample }) => {
  const fontFamily = getComputedStyle(document.querySelector(selector)).fontFamily;
  function draw(ch) {
    const canvas = document.createElement("canvas");
    canvas.width = 48;
    canvas.height = 48;
    const context = canvas.getContext("2d");
    context.font = "36px " + fontFamily;
    context.fillText(ch, 4, 40);
    return canvas.toDataURL();
  }
  const notdef = draw("\\u{10FFFD}");
  const blank = draw(" ");
  const tofu = [...new Set(sample)].filter((ch) => { const drawn = draw(ch); return drawn === notdef || drawn === blank; });
  return { fontFamily, tofu };
}`;

export async function tofuIn(page: Page, selector: string, sample: string): Promise<{ fontFamily: string; tofu: string[] }> {
  return page.evaluate(`(${DRAW_CHARACTERS})(${JSON.stringify({ selector, sample })})`) as Promise<{ fontFamily: string; tofu: string[] }>;
}
