// Cold start of the published gateway, as the Functions host starts it: the `handler` executable on an empty data
// directory, each start a new process. Measures, per start: exec to the first answer (GET /), then the first
// management call (a link created), then the first 402 of that link and a second one. Prints a markdown table of
// the medians and every start's figures; the environment (chain, facilitator, upstream ranges) is the caller's.
//
//   node cold-start.mjs <handler> <upstream url> <starts> <work dir>
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import path from "node:path";

const [handler, upstream, startsArg, work] = process.argv.slice(2);
const starts = Number(startsArg);
const adminKey = `x402sk_cold_${Math.random().toString(16).slice(2).padEnd(16, "0")}`;

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
});
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function once() {
  const port = await freePort();
  const data = mkdtempSync(path.join(work, "cold-"));
  const base = `http://127.0.0.1:${port}`;
  const t0 = now();
  const child = spawn(handler, [], {
    env: { ...process.env, ASPNETCORE_URLS: base, X402_ADMIN_KEY: adminKey, X402__DataDirectory: data, Logging__LogLevel__Default: "Warning" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  try {
    // The Functions host polls its custom handler until it answers; this polls every 2 ms.
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the handler exited (${child.exitCode}) before answering: ${stderr}`);
      if (now() - t0 > 60_000) throw new Error("the handler did not answer within 60 s");
      try { await (await fetch(base + "/")).arrayBuffer(); break; } catch { await new Promise((r) => setTimeout(r, 2)); }
    }
    const firstAnswer = now() - t0;
    let t = now();
    const created = await fetch(base + "/api/links", {
      method: "POST", headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ upstream, price: "0.01", payTo: "0x1111111111111111111111111111111111111111" }),
    });
    if (created.status !== 201) throw new Error(`link create -> ${created.status} ${await created.text()}`);
    const { id } = await created.json();
    const firstCreate = now() - t;
    const ask = async () => {
      const t1 = now();
      const r = await fetch(`${base}/l/${id}`);
      await r.arrayBuffer();
      if (r.status !== 402) throw new Error(`GET /l/${id} -> ${r.status}`);
      return now() - t1;
    };
    const first402 = await ask();
    const second402 = await ask();
    return { firstAnswer, firstCreate, first402, second402 };
  } finally {
    child.kill("SIGTERM");
    await exited;
    rmSync(data, { recursive: true, force: true });
  }
}

const runs = [];
for (let i = 0; i < starts; i++) runs.push(await once());
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const cols = [["firstAnswer", "exec → first answer"], ["firstCreate", "first link created"], ["first402", "first 402 of it"], ["second402", "second 402"]];
const f = (x) => x.toFixed(0);
console.log(`| cold start (${starts} starts, empty store) | ${cols.map(([, h]) => `${h} ms`).join(" | ")} |`);
console.log(`|---|${cols.map(() => "--:").join("|")}|`);
console.log(`| median | ${cols.map(([k]) => f(median(runs.map((r) => r[k])))).join(" | ")} |`);
console.log(`| each start | ${cols.map(([k]) => runs.map((r) => f(r[k])).join(", ")).join(" | ")} |`);
