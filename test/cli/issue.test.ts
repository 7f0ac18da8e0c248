import { expect } from "chai";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { issuanceColumns } from "../../src/guarantees/import-file.js";
import { buildCliWorld, contractNumbers, givenIssued, givenRegistry, sampleCertificate, type CliWorld } from "./cli-world.js";

const KEY = /^[0-9A-HJKMNP-TV-Z]{12}$/;
const PRINTED_KEY = /[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}/g;

/** A certificate as one CSV line for the given header: nested fields by dots, absent ones empty. */
function toCsvLine(header: string[], row: Record<string, unknown>): string {
  return header.map((column) => {
    const [parent, child] = column.split(".") as [string, string?];
    const value = child ? (row[parent] as Record<string, unknown> | undefined)?.[child] : row[parent];
    const text = value === undefined ? "" : String(value);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  }).join(",");
}

describe("admin CLI: issue", () => {
  let world: CliWorld;
  beforeEach(async () => {
    world = await buildCliWorld();
    await givenRegistry(world);
  });
  afterEach(() => world.close());

  it("when a JSON file of certificates is issued, then each contract number and key is printed once and the key verifies against its stored hash", async () => {
    const file = world.file("certs.json", JSON.stringify([
      sampleCertificate({ contractNumber: "02208-000001" }),
      sampleCertificate({ contractNumber: "02208-000002", product: "contract", guaranteeAmount: 5000000, depositBank: undefined }),
    ]));
    const result = await world.run(["issue", file]);
    expect(result.status).to.equal(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines[0]).to.match(/^contract number\s+product\s+auth key$/);
    expect(lines).to.have.length(3);
    expect(lines[1]).to.match(/^02208-000001\s+前払金保証\s+[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(lines[2]).to.match(/^02208-000002\s+契約保証\s+/);
    const keys = result.stdout.match(PRINTED_KEY)!;
    expect(keys).to.have.length(2);
    for (const [i, number] of ["02208-000001", "02208-000002"].entries()) {
      const stored = world.services.guarantees.findByContractNumber(number)!;
      expect(await world.hasher.verify(stored.authKeyHash, keys[i]!.replaceAll("-", ""))).to.equal(true);
    }
    expect(result.stderr).to.contain("2 certificate(s) issued");
  });

  it("when --json is given, then every stdout line is a JSON object with the contract number and the key", async () => {
    const file = world.file("certs.json", JSON.stringify(contractNumbers(10, 3).map((contractNumber) => sampleCertificate({ contractNumber }))));
    const result = await world.run(["issue", file, "--json"]);
    expect(result.status).to.equal(0);
    const objects = result.stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, string>);
    expect(objects.map((o) => o.contractNumber)).to.deep.equal(contractNumbers(10, 3));
    for (const o of objects) {
      expect(Object.keys(o)).to.deep.equal(["contractNumber", "authKey"]);
      expect(o.authKey).to.match(KEY);
      const stored = world.services.guarantees.findByContractNumber(o.contractNumber!)!;
      expect(await world.hasher.verify(stored.authKeyHash, o.authKey!)).to.equal(true);
    }
  });

  it("when certificates are issued, then no key appears in clear anywhere in the database file or its WAL", async () => {
    const file = world.file("certs.json", JSON.stringify(contractNumbers(20, 4).map((contractNumber) => sampleCertificate({ contractNumber }))));
    const result = await world.run(["issue", file]);
    expect(result.status).to.equal(0);
    const printed = result.stdout.match(PRINTED_KEY)!;
    expect(printed).to.have.length(4);
    const needles = printed.flatMap((k) => [k, k.replaceAll("-", ""), k.replaceAll("-", "").toLowerCase()]);
    const haystacks = () => [world.databasePath, `${world.databasePath}-wal`].filter(existsSync).map((f) => readFileSync(f));
    // While another connection is open the pages may still sit in the WAL; after closing, in the main file.
    const whileOpen = haystacks();
    world.db.close();
    const afterClose = haystacks();
    expect(whileOpen.length + afterClose.length).to.be.greaterThan(1);
    for (const files of [whileOpen, afterClose]) {
      const bytes = Buffer.concat(files);
      for (const needle of needles) expect(bytes.indexOf(needle), `found ${needle}`).to.equal(-1);
      expect(bytes.indexOf("$argon2id$"), "the hashes are there, so the search looked in the right place").to.not.equal(-1);
    }
  });

  it("when a CSV with a BOM, full-width digits, odd dashes and thousands separators is issued, then it is accepted as typed", async () => {
    const header = issuanceColumns();
    const rows = [
      sampleCertificate({ contractNumber: "０２２０８－０００１０１", contractAmount: "50,000,000", guaranteeAmount: "２０，０００，０００" }),
      sampleCertificate({ contractNumber: "02208ー000102", product: "contract", guaranteeAmount: "5,000,000 円", depositBank: undefined, contractAmount: "50,000,000" }),
      sampleCertificate({ contractNumber: "02208—000103", orderer: { code: "０２２０８０", title: "むつ市長" }, contractDate: "２０２６-１１-０２" }),
    ];
    const csv = "\uFEFF" + [header.join(","), ...rows.map((r) => toCsvLine(header, r))].join("\r\n") + "\r\n";
    const result = await world.run(["issue", world.file("certs.csv", csv), "--json"]);
    expect(result.stderr).not.to.contain("error");
    expect(result.status).to.equal(0);
    expect(result.stdout.trim().split("\n").map((l) => JSON.parse(l).contractNumber)).to.deep.equal(["02208-000101", "02208-000102", "02208-000103"]);
    const current = world.services.guarantees.currentVersion(world.services.guarantees.findByContractNumber("02208-000101")!.id)!;
    expect(current.content).to.include({ contractAmount: 50000000, guaranteeAmount: 20000000 });
    expect(current.content.contractor.jvName, "an empty cell is absent").to.equal(undefined);
    expect(world.services.guarantees.currentVersion(3)!.content.contractDate).to.equal("2026-11-02");
  });

  it("when the file has no .json or .csv extension, then its format is told from its content", async () => {
    const json = world.file("certs.txt", JSON.stringify([sampleCertificate({ contractNumber: "02208-000201" })]));
    expect((await world.run(["issue", json])).status).to.equal(0);
    const header = issuanceColumns();
    const csv = world.file("certs.dat", [header.join(","), toCsvLine(header, sampleCertificate({ contractNumber: "02208-000202" }))].join("\n"));
    expect((await world.run(["issue", csv])).status).to.equal(0);
    expect(world.count("guarantees")).to.equal(2);
  });

  it("when a row in the middle of a 1,000-row file is bad, then nothing is issued and the row and field are named", async () => {
    await givenIssued(world, [sampleCertificate({ contractNumber: "02208-999999" })]);
    const before = { guarantees: world.count("guarantees"), versions: world.count("guarantee_versions"), audit: world.count("audit_events") };
    const header = issuanceColumns();
    const rows = contractNumbers(1000, 1000).map((contractNumber) => sampleCertificate({ contractNumber, contractAmount: "50,000,000" }));
    rows[499] = sampleCertificate({ contractNumber: "02208-001499", guaranteeAmount: 90000000 });
    const csv = [header.join(","), ...rows.map((r) => toCsvLine(header, r))].join("\n");
    const result = await world.run(["issue", world.file("big.csv", csv)]);
    expect(result.status).to.equal(1);
    expect(result.stdout).to.equal("");
    expect(result.stderr.trim().split("\n")).to.deep.equal([
      `error: ${path.join(world.dir, "big.csv")} was refused (1 problem); nothing was issued:`,
      "row 500, field guaranteeAmount: 90000000 yen exceeds the contract amount 50000000 yen",
    ]);
    expect({ guarantees: world.count("guarantees"), versions: world.count("guarantee_versions"), audit: world.count("audit_events") }).to.deep.equal(before);
  });

  it("when several rows are bad, then every problem is printed as row, field and reason", async () => {
    const rows = [
      sampleCertificate({ contractNumber: "02208-000301", orderer: { code: "022081", title: "むつ市長" } }),
      sampleCertificate({ contractNumber: "02208-000302", orderer: { code: "011002", title: "札幌市長" } }),
      sampleCertificate({ contractNumber: "02208-000303", contractDate: "2026-02-30" }),
      sampleCertificate({ contractNumber: "02208-000304", periodFrom: "2027-04-01", periodTo: "2027-03-19" }),
      sampleCertificate({ contractNumber: "02208-000301" }),
      sampleCertificate({ contractNumber: "02208-000306", issuer: "wjcs" }),
      sampleCertificate({ contractNumber: "02208-000307", depositBank: undefined }),
      sampleCertificate({ contractNumber: "02208-000308", guaranteeAmount: "20,000,00" }),
      sampleCertificate({ contractNumber: "0220-000309" }),
    ];
    const result = await world.run(["issue", world.file("bad.json", JSON.stringify(rows))]);
    expect(result.status).to.equal(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines[0]).to.match(/^error: .*bad\.json was refused \(9 problems\); nothing was issued:$/);
    expect(lines.slice(1)).to.deep.equal([
      "row 1, field orderer.code: 022081 fails the check digit of the local government code",
      "row 2, field orderer.code: no orderer 011002 is registered",
      "row 3, field contractDate: must be a real date written YYYY-MM-DD",
      "row 4, field periodTo: 2027-03-19 is before periodFrom 2027-04-01",
      "row 5, field contractNumber: 02208-000301 repeats row 1",
      'row 6, field issuer: no issuer "wjcs" is registered',
      "row 7, field depositBank: is required for advance guarantees (預託金融機関)",
      'row 8, field guaranteeAmount: must be a positive whole number of yen (got "20,000,00")',
      'row 9, field contractNumber: must be a contract number NNNNN-NNNNNN (got "0220-000309")',
    ]);
    expect(world.count("guarantees")).to.equal(0);
  });

  it("when a contract number was issued before, then the file is refused as a duplicate", async () => {
    await givenIssued(world, [sampleCertificate({ contractNumber: "02208-000001" })]);
    const result = await world.run(["issue", world.file("again.json", JSON.stringify([sampleCertificate({ contractNumber: "02208-000001" })]))]);
    expect(result.status).to.equal(1);
    expect(result.stderr).to.contain("row 1, field contractNumber: 02208-000001 is already issued");
    expect(world.count("guarantees")).to.equal(1);
  });

  it("when the guarantee is above the contract amount, then it is refused", async () => {
    const result = await world.run(["issue", world.file("over.json", JSON.stringify([sampleCertificate({ guaranteeAmount: 50000001 })]))]);
    expect(result.status).to.equal(1);
    expect(result.stderr).to.contain("row 1, field guaranteeAmount: 50000001 yen exceeds the contract amount 50000000 yen");
  });

  it("when the orderer does not accept e-guarantees, then its certificates are refused", async () => {
    await world.run(["orderer", "accepts", "022080", "--no"]);
    const result = await world.run(["issue", world.file("c.json", JSON.stringify([sampleCertificate()]))]);
    expect(result.status).to.equal(1);
    expect(result.stderr).to.contain("does not accept e-guarantees");
  });

  it("when the JSON is malformed, then the line and column are named and nothing is written", async () => {
    const file = world.file("broken.json", '[\n  {"contractNumber": "02208-000001",\n  }\n]\n');
    const result = await world.run(["issue", file]);
    expect(result.status).to.equal(1);
    expect(result.stderr).to.equal(`error: ${file} is not valid JSON at line 3, column 3: Expected double-quoted property name; nothing was issued\n`);
    expect(world.count("guarantees")).to.equal(0);
  });

  it("when the JSON is not an array, or the file is empty or not UTF-8, then it is refused with a clear message", async () => {
    const object = await world.run(["issue", world.file("one.json", JSON.stringify(sampleCertificate()))]);
    expect(object.status).to.equal(1);
    expect(object.stderr).to.contain("must be a JSON array of certificates");
    const empty = await world.run(["issue", world.file("empty.json", "  \n")]);
    expect(empty.stderr).to.contain("is empty");
    const sjis = await world.run(["issue", world.file("sjis.csv", Buffer.from([0x83, 0x80, 0x83, 0x63, 0x0a]))]);
    expect(sjis.status).to.equal(1);
    expect(sjis.stderr).to.contain("is not UTF-8 text");
    const missing = await world.run(["issue", path.join(world.dir, "nope.json")]);
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.contain("no such file");
  });

  it("when the CSV is malformed, then the line is named and nothing is written", async () => {
    const header = issuanceColumns();
    const good = toCsvLine(header, sampleCertificate());
    const unclosed = await world.run(["issue", world.file("q.csv", `${header.join(",")}\n${good}\n"02208-000002,advance\n`)]);
    expect(unclosed.status).to.equal(1);
    expect(unclosed.stderr).to.match(/is not valid CSV at line 3: .*Quote Not Closed/);
    const short = await world.run(["issue", world.file("s.csv", `${header.join(",")}\n${good}\n02208-000002,advance\n`)]);
    expect(short.status).to.equal(1);
    expect(short.stderr).to.match(/is not valid CSV at line 3: Invalid Record Length: expect \d+, got 2/);
    const unknownColumn = await world.run(["issue", world.file("u.csv", `${header.join(",")},colour\n${good},red\n`)]);
    expect(unknownColumn.status).to.equal(1);
    expect(unknownColumn.stderr).to.contain('unknown column(s) "colour"');
    expect(world.count("guarantees")).to.equal(0);
  });

  it("when --notices is given, then one print-ready notice per certificate holds the key, the product and HTML-escaped content", async () => {
    const dir = path.join(world.dir, "notices", "batch-1");
    const rows = [
      sampleCertificate({ contractNumber: "02208-000001", projectName: "<script>alert(1)</script> & 道路工事" }),
      sampleCertificate({ contractNumber: "02208-000002", product: "interim", contractor: { name: "〇〇建設", address: "むつ市", jvName: "〇〇・△△JV" } }),
    ];
    const result = await world.run(["issue", world.file("c.json", JSON.stringify(rows)), "--notices", dir, "--json"]);
    expect(result.status).to.equal(0);
    const keys = result.stdout.trim().split("\n").map((l) => JSON.parse(l) as { contractNumber: string; authKey: string });
    expect(readdirSync(dir).sort()).to.deep.equal(["02208-000001.html", "02208-000002.html"]);
    const first = readFileSync(path.join(dir, "02208-000001.html"), "utf8");
    expect(first).to.contain("電子保証にかかる「認証キー」のお知らせ");
    expect(first).to.contain(`${keys[0]!.authKey.slice(0, 4)}-${keys[0]!.authKey.slice(4, 8)}-${keys[0]!.authKey.slice(8)}`);
    expect(first).to.contain("02208-000001").and.contain("前払金保証").and.contain("東日本建設業保証株式会社").and.contain("【発注者様へお願い】");
    expect(first).to.contain("&lt;script&gt;alert(1)&lt;/script&gt; &amp; 道路工事");
    expect(first).not.to.contain("<script>");
    expect(first).to.match(/<style>[\s\S]*@page\s*\{\s*size:\s*A4/);
    expect(first).to.match(/\.key\s*\{[^}]*monospace/);
    const second = readFileSync(path.join(dir, "02208-000002.html"), "utf8");
    expect(second).to.contain("中間前払金保証").and.contain("〇〇・△△JV");
    if (process.platform !== "win32") expect(statSync(path.join(dir, "02208-000001.html")).mode & 0o077, "notices hold keys: private").to.equal(0);
  });

  it("when --notices names something that is not a writable folder, then nothing is issued", async () => {
    const notAFolder = world.file("occupied", "a file, not a folder");
    const result = await world.run(["issue", world.file("c.json", JSON.stringify([sampleCertificate()])), "--notices", notAFolder]);
    expect(result.status).to.equal(1);
    expect(result.stderr).to.contain("--notices").and.contain("not a folder");
    expect(world.count("guarantees")).to.equal(0);
  });

  it("when the file is refused, then no notices are written", async () => {
    const dir = path.join(world.dir, "notices");
    await world.run(["issue", world.file("c.json", JSON.stringify([sampleCertificate({ guaranteeAmount: 60000000 })])), "--notices", dir]);
    expect(existsSync(dir) ? readdirSync(dir) : []).to.deep.equal([]);
  });

  it("when stderr is a terminal and the file has more than 20 rows, then a progress bar is drawn there and nowhere else", async () => {
    const rows = contractNumbers(500, 25).map((contractNumber) => sampleCertificate({ contractNumber }));
    const onTerminal = await world.run(["issue", world.file("c.json", JSON.stringify(rows)), "--json"], { stderrIsTTY: true });
    expect(onTerminal.status).to.equal(0);
    expect(onTerminal.stderr).to.contain("hashing keys");
    expect(onTerminal.stdout).not.to.contain("hashing keys");
    const rows2 = contractNumbers(600, 25).map((contractNumber) => sampleCertificate({ contractNumber }));
    const piped = await world.run(["issue", world.file("d.json", JSON.stringify(rows2)), "--json"]);
    expect(piped.stderr).not.to.contain("hashing keys");
  });
});
