// Out-of-process load generator for bench/run.sh. The proxy rows (direct, nginx, the gateway's 402 and credits-paid
// call) are driven by wrk, so the generator's own cost stays small beside the servers' (wrk-report.lua counts every
// status). The x402 rows are driven by wrk too (wrk-paid.lua; BENCH_X402_GENERATOR=node: from here over keep-alive
// node:http): every paid request carries its own fresh payment, signed before the row starts (not timed, in worker
// threads: sign-worker.mjs) with the official x402 v2 client (@x402/core + @x402/evm) and sent as PAYMENT-SIGNATURE. Only the row's expected status (200; 402 for the unpaid row) counts as success; every
// other status is reported.
// Usage: node load.mjs <config.json>   (written by run.sh; see there for the fields)
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { decodePaymentRequiredHeader, decodePaymentSignatureHeader } from "@x402/core/http";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { pad } from "viem";
import { localChain, walletFor, artifact } from "../tests/peers/chain.mjs";

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const startLoad = os.loadavg()[0];
const log = (...a) => console.error("[load]", ...a);
const PRICE = "0.001"; // USD per call: 1000 atomic units of the 6-decimal token
const AMOUNT = 1000n;

// ---- HTTP: one keep-alive pool per row, sized to its concurrency ----
function get(agent, url, headers) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers }, (res) => {
      res.on("data", () => {});
      res.on("end", () => resolve(res.statusCode));
      res.on("error", (e) => resolve(`ERR ${e.code ?? e.message}`));
    });
    req.on("error", (e) => resolve(`ERR ${e.code ?? e.message}`));
  });
}

async function api(method, path, body, base = cfg.gateway) {
  const r = await fetch(base + path, {
    method, headers: { authorization: `Bearer ${cfg.adminKey}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status} ${text}`);
  return JSON.parse(text);
}

async function rpc(method, params) {
  const r = await fetch(cfg.rpcUrl, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const j = await r.json();
  if (j.error) throw new Error(`${method}: ${JSON.stringify(j.error)}`);
  return j.result;
}

const TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
async function transfersTo(payTo) {
  const logs = await rpc("eth_getLogs", [{ address: cfg.token, fromBlock: "0x0", toBlock: "latest",
    topics: [TRANSFER, null, pad(payTo.toLowerCase())] }]);
  return logs.length;
}

// ---- one row: warm-up, then `count` requests or `seconds`, whichever ends first ----
async function drive(url, concurrency, count, seconds, headersFor, expect) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const statuses = {};
  const latencies = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    for (;;) {
      if (next >= count || performance.now() >= deadline) return;
      const i = next++;
      const t0 = performance.now();
      const status = await get(agent, url, headersFor(i));
      const ms = performance.now() - t0;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === expect) latencies.push(ms);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : NaN);
  return { sent: next, ok: latencies.length, statuses, elapsed, rps: latencies.length / elapsed, p50: pct(0.5), p95: pct(0.95), p99: pct(0.99) };
}

// BENCH_ONLY (comma-separated: 402, credits, catalogue, dashboard, deferred, sync, official, facilitator, reference, table) runs only those rows, for
// working on one path; direct upstream and nginx always run, as the proxy rows' yardstick.
const only = (process.env.BENCH_ONLY ?? "").split(",").map((s) => s.trim()).filter(Boolean);
const wanted = (...tags) => !only.length || tags.some((t) => only.includes(t));

const rows = [];
async function row(spec) {
  const { name, group, url, concurrency, count, headersFor = () => ({}), expect = 200, payTo = null, mode = null, linkId = null, base = null } = spec;
  const warm = Math.min(cfg.warmup, count);
  const cpuBefore = base === cfg.gateway ? gatewayCpuMs() : NaN;
  const chainBefore = spec.payments ? await chainMark() : null;
  let w, m;
  if (spec.payments && x402Generator === "wrk") {
    w = await wrkPaid({ url, concurrency, payments: spec.payments.slice(0, warm), seconds: cfg.seconds, expect });
    m = await wrkPaid({ url, concurrency, payments: spec.payments.slice(warm, warm + count), seconds: cfg.seconds, expect });
  } else {
    w = await drive(url, concurrency, warm, cfg.seconds, headersFor, expect);
    m = await drive(url, concurrency, count, cfg.seconds, (i) => headersFor(w.sent + i), expect);
  }
  // The gateway's own CPU per answer (warm-up included), less sensitive than req/s to what else the machine runs.
  const cpuPerCall = (gatewayCpuMs() - cpuBefore) / (m.sent + w.sent);
  const r = { name, group, concurrency, ...m, expect, payTo, mode, linkId, base, okWithWarmup: m.ok + w.ok, warmStatuses: w.statuses, cpuPerCall,
    chain: chainBefore && mode !== "deferred" ? chainUse(chainBefore, await chainMark(), m.sent + w.sent) : null };
  rows.push(r);
  const other = Object.entries(m.statuses).filter(([s]) => String(s) !== String(expect)).map(([s, n]) => `${s}×${n}`).join(" ");
  log(`${name} c${concurrency}: ${m.ok}/${m.sent} ${expect} in ${m.elapsed.toFixed(1)}s, ${m.rps.toFixed(0)} req/s, p50 ${m.p50.toFixed(2)} ms` +
    (r.chain ? `, anvil CPU ${r.chain.cpuPerCall.toFixed(2)} ms and ${r.chain.perBlock.toFixed(1)} requests per block` : "") +
    `${Number.isFinite(cpuPerCall) ? `, gateway CPU ${cpuPerCall.toFixed(2)} ms per call` : ""}${other ? ", other: " + other : ""}`);
  return r;
}

// ---- a proxy row with wrk: a warm-up run, then a timed one ----
function wrk(url, concurrency, seconds, headers) {
  const args = ["-t", String(Math.min(2, concurrency)), "-c", String(concurrency), "-d", `${seconds}s`, "--timeout", "10s",
    "-s", new URL("./wrk-report.lua", import.meta.url).pathname];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  args.push(url);
  if (cfg.proxyMaxRequests > 0) args.push("--", String(Math.ceil(cfg.proxyMaxRequests / Math.min(2, concurrency))));
  return new Promise((resolve, reject) => execFile(cfg.wrk, args, (err, stdout, stderr) => {
    const line = stdout.split("\n").find((l) => l.startsWith("WRK-JSON "));
    if (err || !line) return reject(new Error(`wrk ${args.join(" ")}: ${err?.message ?? ""} ${stdout} ${stderr}`));
    resolve(JSON.parse(line.slice(9)));
  }));
}
// ---- a paid row with wrk (bench/wrk-paid.lua): one thread per connection, each with its own slice of the payments ----
// BENCH_X402_GENERATOR=node drives the x402 rows from this process instead (node:http), as before: one Node.js process
// answers at most ~9.6k req/s from nginx direct at c16 on 2 cores, wrk with fresh payments ~30k.
const x402Generator = process.env.BENCH_X402_GENERATOR ?? "wrk";
const paymentsDir = fs.mkdtempSync(path.join(os.tmpdir(), "x402-bench-payments-"));
process.on("exit", () => fs.rmSync(paymentsDir, { recursive: true, force: true }));
let wrkRuns = 0;
/** `payments` (one per request, never reused) or, when null, wrk's own request with `headers`, for up to `seconds`;
 * `rate` (req/s over all connections, 0: as fast as answered) is the soak's limiter. */
function wrkPaid({ url, concurrency, payments = null, headers = {}, seconds, rate = 0, expect = 200 }) {
  const threads = payments ? Math.min(concurrency, payments.length) : concurrency;
  if (threads === 0) return Promise.resolve({ sent: 0, ok: 0, statuses: {}, elapsed: 0, rps: NaN, p50: NaN, p95: NaN, p99: NaN, seconds: [] });
  let prefix = "-";
  if (payments) {
    prefix = path.join(paymentsDir, `run${wrkRuns++}-`);
    for (let t = 0; t < threads; t++) {
      const slice = payments.filter((_, i) => i % threads === t);
      // wrk calls request() once on its first thread before the run to check the script (its answer is never sent):
      // that thread's slice starts with a placeholder for that call, so no payment is spent on it.
      if (t === 0) slice.unshift("unused");
      fs.writeFileSync(prefix + t, slice.join("\n") + "\n");
    }
  }
  const args = ["-t", String(threads), "-c", String(threads), "-d", `${Math.ceil(seconds) + 60}s`, "--timeout", "10s",
    "-s", new URL("./wrk-paid.lua", import.meta.url).pathname];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  args.push(url, "--", prefix, String(seconds), String(rate / threads));
  return new Promise((resolve, reject) => {
    const child = spawn(cfg.wrk, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "", done = 0;
    // Each thread prints WRK-DONE once it has stopped (after an answer); wrk itself would wait out its -d.
    child.stdout.on("data", (d) => {
      stdout += d;
      const n = (stdout.match(/^WRK-DONE$/gm) ?? []).length;
      if (n > done && (done = n) === threads) child.kill("SIGINT");
    });
    child.stderr.on("data", (d) => { stderr += d; });
    child.on("close", (code) => {
      if (payments) for (let t = 0; t < threads; t++) fs.rmSync(prefix + t, { force: true });
      const line = stdout.split("\n").find((l) => l.startsWith("WRK-JSON "));
      if (!line) return reject(new Error(`wrk ${args.join(" ")}: exit ${code} ${stdout} ${stderr}`));
      const j = JSON.parse(line.slice(9));
      const statuses = { ...j.statuses };
      for (const [k, n] of Object.entries(j.errors)) if (n) statuses[`ERR ${k}`] = n;
      const ok = j.statuses[expect] ?? 0;
      const elapsed = j.elapsedUs / 1e6;
      resolve({ sent: j.requests + Object.values(j.errors).reduce((a, b) => a + b, 0), ok, statuses, elapsed, rps: ok / elapsed,
        p50: j.p50 / 1000, p95: j.p95 / 1000, p99: j.p99 / 1000, seconds: j.seconds });
    });
  });
}

async function wrkRow({ name, url, concurrency, headers = {}, expect = 200, group = "proxy", pid = null }) {
  // One request first, untimed and with a long timeout: whatever a cold path costs (first reads of a store) stays out of
  // the figures, and a row whose calls are slower than its short smoke window still shows that it runs at all.
  let probeOk = 0;
  try {
    const probe = await fetch(url, { headers, signal: AbortSignal.timeout(60_000) });
    await probe.arrayBuffer();
    probeOk = probe.status === expect ? 1 : 0;
  } catch (e) {
    log(`${name}: the first request failed: ${e.message}`);
  }
  const warm = await wrk(url, concurrency, cfg.proxyWarmupSeconds, headers);
  // CPU per call of the gateway, or of the process given (Kestrel alone).
  const cpuPid = pid ?? (url.startsWith(cfg.gateway + "/") ? cfg.gatewayPid : null);
  const cpuBefore = cpuPid ? cpuMs(cpuPid) : NaN;
  const w = await wrk(url, concurrency, cfg.proxySeconds, headers);
  const cpuPerCall = (cpuMs(cpuPid) - cpuBefore) / w.requests;
  const statuses = { ...w.statuses };
  for (const [k, n] of Object.entries(w.errors)) if (n) statuses[`ERR ${k}`] = n;
  const ok = w.statuses[expect] ?? 0;
  const elapsed = w.durationUs / 1e6;
  const r = { name, group, concurrency, sent: w.requests, ok, statuses, elapsed, rps: cfg.proxyMaxRequests > 0 ? NaN : ok / elapsed,
    p50: w.p50 / 1000, p95: w.p95 / 1000, p99: w.p99 / 1000, expect, payTo: null, mode: null, generator: "wrk",
    okWithWarmup: ok + (warm.statuses[expect] ?? 0) + probeOk, cpuPerCall };
  rows.push(r);
  log(`${name} c${concurrency}: ${ok}/${w.requests} ${expect} in ${elapsed.toFixed(1)}s, ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms`);
  return r;
}

// ---- payers: a few wallets funded with the token; payments rotate over them ----
const chain = await localChain(cfg.rpcUrl);
const { wallet } = walletFor(chain, cfg.rpcUrl, cfg.deployerKey);
const { abi } = artifact();
const payerKeys = Array.from({ length: cfg.payers }, () => generatePrivateKey());
const payers = payerKeys.map((k) => privateKeyToAccount(k));
for (const p of payers) {
  const hash = await wallet.writeContract({ address: cfg.token, abi, functionName: "mint", args: [p.address, 10n ** 15n] });
  await wallet.waitForTransactionReceipt({ hash });
}
/** Fresh payments for `url`, one per request, from its own 402 (signing is not timed): one worker thread per core
 * (bench/sign-worker.mjs), payment i from payer i % payers. */
const signing = { payments: 0, seconds: 0 };
async function sign(url, n) {
  const res = await fetch(url);
  const header = res.headers.get("payment-required");
  if (res.status !== 402 || !header) throw new Error(`${url}: expected a 402 with PAYMENT-REQUIRED, got ${res.status}`);
  decodePaymentRequiredHeader(header);
  const t0 = performance.now();
  const stride = Math.max(1, Math.min(os.cpus().length, n));
  const parts = await Promise.all(Array.from({ length: stride }, (_, start) => new Promise((resolve, reject) => {
    const w = new Worker(new URL("./sign-worker.mjs", import.meta.url),
      { workerData: { keys: payerKeys, header, network: cfg.network, token: cfg.token, n, start, stride } });
    w.once("message", resolve).once("error", reject);
  })));
  const out = new Array(n);
  parts.forEach((part, start) => part.forEach((p, k) => { out[start + k * stride] = p; }));
  const seconds = (performance.now() - t0) / 1000;
  signing.payments += n;
  signing.seconds += seconds;
  log(`signed ${n} payments for ${url} in ${seconds.toFixed(1)}s over ${stride} threads (not timed)`);
  return out;
}
const paid = (payments) => (i) => ({ "PAYMENT-SIGNATURE": payments[i] });
const freshAddress = () => privateKeyToAccount(generatePrivateKey()).address;

// ---- links on each gateway (SQLite; Table Storage on Azurite when started), each x402 row paying its own recipient ----
const upstream = `${cfg.upstream}/quote`;
const gateways = [{ base: cfg.gateway, store: "", modes: ["deferred", "sync-builtin", "sync-official"] }];
if (cfg.gatewayTable && wanted("table")) gateways.push({ base: cfg.gatewayTable, store: " [Table Storage]", modes: ["deferred", "sync-builtin"] });
const x402Rows = [];
for (const g of gateways) {
  const link = async (body) => {
    const created = await api("POST", "/api/links", { upstream, price: PRICE, ...body }, g.base);
    return { id: created.id, url: created.url };
  };
  for (const mode of g.modes) {
    for (const c of cfg.x402Concurrency) {
      const payTo = freshAddress();
      const body = mode === "deferred" ? { payTo, settlement: "deferred", deferredPayers: "any", facilitator: "builtin" }
        : mode === "sync-builtin" ? { payTo, settlement: "sync", facilitator: "builtin" }
        : { payTo, settlement: "sync", facilitator: "remote" };
      x402Rows.push({ gateway: g, mode, concurrency: c, payTo, ...(await link(body)) });
    }
  }
  g.unpaid = await link({ payTo: freshAddress() });
  g.credits = await link({ payTo: freshAddress(), accepts: ["credits"] });
  g.payer = await api("POST", "/api/payers", { name: "bench", creditLimit: "1000000" }, g.base);
}

// ---- rows ----
const proxyC = cfg.proxyConcurrency;
await wrkRow({ name: "direct upstream", url: upstream, concurrency: proxyC });
await wrkRow({ name: "nginx proxy_pass", url: `${cfg.nginx}/quote`, concurrency: proxyC });
// ---- Kestrel alone (BENCH_ONLY tag "kestrel", also run with 402 or credits): the bench tool's bare ASP.NET Core app on
// this machine, nothing of the gateway in it: the gateway's own 402 written as fixed bytes, and a bare HttpClient
// forward to the same upstream. What the gateway's 402 and credits-paid rows cost above the framework. ----
if (wanted("kestrel", "402", "credits") && cfg.benchTool) {
  const challenge = await fetch(gateways[0].unpaid.url);
  const bodyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "x402-kestrel-")), "challenge-402.json");
  fs.writeFileSync(bodyFile, Buffer.from(await challenge.arrayBuffer()));
  const alone = spawn("dotnet", [cfg.benchTool, "kestrel", upstream, challenge.headers.get("payment-required") ?? "", bodyFile],
    { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const base = await new Promise((resolve, reject) => {
      let out = "";
      alone.stdout.on("data", (d) => {
        out += d;
        const m = /^listening (\S+)$/m.exec(out);
        if (m) resolve(m[1]);
      });
      alone.on("exit", (code) => reject(new Error(`Kestrel alone exited (${code}) before listening`)));
    });
    await wrkRow({ name: "Kestrel alone: the gateway's 402 as fixed bytes", url: `${base}/402`, concurrency: proxyC, expect: 402, pid: alone.pid });
    await wrkRow({ name: "Kestrel alone: bare HttpClient forward", url: `${base}/forward`, concurrency: proxyC, pid: alone.pid });
  } finally {
    alone.kill();
  }
}
for (const g of gateways) {
  if (wanted("402")) await wrkRow({ name: `gateway: unpaid → 402${g.store}`, url: g.unpaid.url, concurrency: proxyC, expect: 402 });
  if (wanted("credits")) await wrkRow({ name: `gateway: credits-paid${g.store}`, url: g.credits.url, concurrency: proxyC, headers: { Authorization: `Bearer ${g.payer.key}` } });
}
// ---- catalogue (BENCH_ONLY tag "catalogue"): cfg.catalogueLinks listed links seeded on the SQLite gateway through the
// management API (parallel requests), then the public documents read as a browser or a crawler reads them, each once
// fresh (200) and once revalidated with its ETag (304). The issue's target: under 20 ms p50 with 1,000 listed links. ----
if (wanted("catalogue")) {
  const t0 = performance.now();
  const categories = ["Data", "Finance", "Weather", "Maps", "AI", "Media", "Search", "Commerce"];
  const tags = ["weather", "forecast", "geo", "stocks", "fx", "llm", "images", "news", "search", "retail"];
  let seeded = 0;
  const seedOne = (i) => api("POST", "/api/links", {
    upstream, price: (0.001 * (1 + (i % 50))).toFixed(3), payTo: freshAddress(), listed: true,
    name: `Bench API ${i}`, description: `Benchmark listing ${i}: a small JSON quote, paid per call.`,
    category: categories[i % categories.length], tags: [tags[i % tags.length], tags[(i * 7 + 3) % tags.length]],
    exampleRequest: `GET /quote?symbol=S${i}`, accepts: ["x402", "credits"],
    inputSchema: { type: "object", properties: { symbol: { type: "string" } }, required: ["symbol"] },
    outputSchema: { type: "object", properties: { symbol: { type: "string" }, price: { type: "string" } } },
  });
  for (let next = 0; next < cfg.catalogueLinks;) {
    const batch = Array.from({ length: Math.min(32, cfg.catalogueLinks - next) }, (_, k) => next + k);
    next += batch.length;
    await Promise.all(batch.map(seedOne));
    seeded += batch.length;
  }
  log(`catalogue: seeded ${seeded} listed links in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  // Asked as browsers and crawlers ask (Accept-Encoding: gzip); /openapi.json also without compression.
  const gzip = { "Accept-Encoding": "gzip" };
  const documents = [
    { name: "catalogue page /", path: "/", headers: { Accept: "text/html", ...gzip } },
    { name: "discovery ?limit=100", path: "/discovery/resources?limit=100", headers: gzip },
    { name: "/openapi.json", path: "/openapi.json", headers: gzip },
    { name: "/openapi.json, identity", path: "/openapi.json", headers: { "Accept-Encoding": "identity" }, only200: true },
  ];
  for (const d of documents) {
    const url = cfg.gateway + d.path;
    const first = await new Promise((resolve, reject) => http.get(url, { headers: d.headers }, (res) => {
      let bytes = 0;
      res.on("data", (chunk) => { bytes += chunk.length; });
      res.on("end", () => resolve({ status: res.statusCode, etag: res.headers.etag, encoding: res.headers["content-encoding"] ?? "identity", bytes }));
    }).on("error", reject));
    if (first.status !== 200 || !first.etag) throw new Error(`${url}: expected 200 with an ETag, got ${first.status}`);
    log(`catalogue: ${d.path} is ${(first.bytes / 1024).toFixed(0)} KiB (${first.encoding})`);
    await wrkRow({ name: `gateway: ${d.name} (${seeded} listed)`, url, concurrency: proxyC, headers: d.headers, group: "catalogue" });
    if (d.only200) continue;
    await wrkRow({ name: `gateway: ${d.name}, If-None-Match → 304`, url, concurrency: proxyC, headers: { ...d.headers, "If-None-Match": first.etag },
      expect: 304, group: "catalogue" });
  }
}
// ---- dashboard (BENCH_ONLY tag "dashboard"): the console's dashboard and GET /api/usage/daily?days=90 for an organisation
// with 1,000 and then 1,000,000 settled payments written straight into the SQLite gateway's database in bulk
// (bench/X402Serverless.Bench seed-payments) with their usage counters. Both read the daily counters (one query layer),
// never the payments: the two sizes should answer alike. ----
if (wanted("dashboard") && cfg.benchTool && cfg.gatewayData) {
  const created = await api("POST", "/api/organisations", { name: "Bench dashboard" });
  const orgKey = created.key;
  const asOrg = async (method, p, body) => {
    const r = await fetch(cfg.gateway + p, { method, headers: { authorization: `Bearer ${orgKey}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${p} -> ${r.status} ${text}`);
    return JSON.parse(text);
  };
  const orgId = (await asOrg("GET", "/api/organisation")).id;
  const payTo = freshAddress();
  const link = await asOrg("POST", "/api/links", { upstream, price: "0.001", payTo, name: "Bench dashboard API" });
  const linkId = link.id ?? link.link?.id;
  // A console session: the login form's antiforgery token and cookie, then the session cookie it sets.
  const login = await fetch(cfg.gateway + "/console/login");
  const loginHtml = await login.text();
  const token = /name="__RequestVerificationToken" type="hidden" value="([^"]+)"|type="hidden" name="__RequestVerificationToken" value="([^"]+)"|name="__RequestVerificationToken" value="([^"]+)"/.exec(loginHtml);
  const cookieOf = (res) => (res.headers.getSetCookie?.() ?? []).map((c) => c.split(";")[0]);
  const jar = cookieOf(login);
  const signIn = await fetch(cfg.gateway + "/console/login", { method: "POST", redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: jar.join("; ") },
    body: new URLSearchParams({ _handler: "login", "Input.Key": orgKey, __RequestVerificationToken: (token?.[1] ?? token?.[2] ?? token?.[3] ?? "").replaceAll("&#x2B;", "+").replaceAll("&#x2F;", "/").replaceAll("&#x3D;", "=") }) });
  const session = [...jar, ...cookieOf(signIn)].join("; ");
  if (signIn.status !== 302) log(`dashboard: console sign-in answered ${signIn.status}; only the API rows run`);
  let seeded = 0;
  for (const target of [1_000, 1_000_000]) {
    const t0 = performance.now();
    await new Promise((resolve, reject) => execFile("dotnet", [cfg.benchTool, "seed-payments", path.join(cfg.gatewayData, "x402.db"), orgId, linkId, payTo,
      String(seeded), String(target - seeded)], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => err ? reject(new Error(`${err.message} ${stderr}`)) : resolve(stdout)));
    seeded = target;
    log(`dashboard: ${seeded} payments stored (seeded in ${((performance.now() - t0) / 1000).toFixed(1)}s)`);
    const report = await asOrg("GET", "/api/usage/daily?days=90");
    if (report.totals.paid < seeded) throw new Error(`dashboard: the report counts ${report.totals.paid} paid calls for ${seeded} payments`);
    await wrkRow({ name: `gateway: GET /api/usage/daily?days=90 (${seeded.toLocaleString("en")} payments)`, url: `${cfg.gateway}/api/usage/daily?days=90`,
      concurrency: 4, headers: { Authorization: `Bearer ${orgKey}` }, group: "dashboard" });
    if (signIn.status === 302) {
      await wrkRow({ name: `gateway: console dashboard, 90 days (${seeded.toLocaleString("en")} payments)`, url: `${cfg.gateway}/console?days=90`,
        concurrency: 4, headers: { Cookie: session }, group: "dashboard" });
    }
  }
}
const modeTag = { "deferred": "deferred", "sync-builtin": "sync", "sync-official": "official" };
for (let i = x402Rows.length - 1; i >= 0; i--) if (!wanted(modeTag[x402Rows[i].mode])) x402Rows.splice(i, 1);

const titles = { "deferred": "gateway: x402 deferred (built-in)", "sync-builtin": "gateway: x402 sync (built-in)",
  "sync-official": "gateway: x402 sync (official facilitator)" };
const x402Row = async (x) => {
  const count = x.mode === "deferred" ? cfg.paidRequests : cfg.syncRequests;
  const payments = await sign(x.url, Math.min(cfg.warmup, count) + count);
  await row({ name: titles[x.mode] + x.gateway.store, group: "x402", url: x.url, concurrency: x.concurrency, count, headersFor: paid(payments), payments,
    payTo: x.payTo, mode: x.mode, linkId: x.id, base: x.gateway.base });
};

// On chain: transfers to each row's payTo against its 200s (warm-up included), waiting (bounded) for them to land.
async function awaitSettlement(of, boundSeconds) {
  const started = Date.now();
  for (;;) {
    for (const r of of) r.onChain = await transfersTo(r.payTo);
    const behind = of.filter((r) => r.onChain < r.okWithWarmup);
    if (!behind.length || Date.now() > started + boundSeconds * 1000) break;
    log(`waiting for settlement: ${behind.map((r) => `${r.name} c${r.concurrency} ${r.onChain}/${r.okWithWarmup}`).join(", ")}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  return (Date.now() - started) / 1000;
}

// The chain-bound rows first, side by side on a chain in the same condition: anvil recomputes its state root from every
// storage slot on each block it mines, and each EIP-3009 transfer adds a slot (the authorization's used flag), so every
// settlement makes the next block dearer for everyone (bench/anvil-probe.mjs measures it). The deferred rows' ~8,000
// settlements come after them, and at each concurrency the reference stack goes first, on the least-used chain: the
// gateway's sync rows are never measured on a fresher chain than the one they are compared with.
const refPayTos = cfg.referencePayTos;
const referenceRow = async (i, c) => {
  const url = `${cfg.reference}/r/${i}/quote`;
  const payments = await sign(url, Math.min(cfg.warmup, cfg.syncRequests) + cfg.syncRequests);
  await row({ name: "reference: @x402/express + official facilitator", group: "x402", url, concurrency: c, count: cfg.syncRequests,
    headersFor: paid(payments), payments, payTo: refPayTos[i], mode: "reference" });
};
for (const [i, c] of cfg.x402Concurrency.entries()) {
  if (wanted("reference")) await referenceRow(i, c);
  for (const x of x402Rows.filter((x) => x.mode !== "deferred" && x.concurrency === c)) await x402Row(x);
}
// ---- facilitator (BENCH_ONLY tag "facilitator"): the built-in facilitator's own settlements/s, fresh payments POSTed to
// the gateway's /facilitator/settle at concurrency 16; a 200 counts only with success true, its transfer counted on
// chain like the other rows. Self-contained: its own request loop and link. ----
if (wanted("facilitator")) {
  const payTo = freshAddress();
  const fl = await api("POST", "/api/links", { upstream, price: PRICE, payTo, facilitator: "builtin" });
  const concurrency = 16, count = cfg.syncRequests, warm = Math.min(cfg.warmup, count);
  const bodies = (await sign(fl.url, warm + count)).map((header) => {
    const paymentPayload = decodePaymentSignatureHeader(header);
    return JSON.stringify({ x402Version: 2, paymentPayload, paymentRequirements: paymentPayload.accepted });
  });
  const settleUrl = new URL("/facilitator/settle", cfg.gateway);
  const refusals = new Map(); // errorMessage -> count, logged after the row (the table shows the reasons only)
  const post = (agent, body) => new Promise((resolve) => {
    const req = http.request(settleUrl, { method: "POST", agent, headers: { "content-type": "application/json",
      authorization: `Bearer ${cfg.adminKey}`, "content-length": Buffer.byteLength(body) } }, (r) => {
      let text = "";
      r.on("data", (d) => (text += d));
      r.on("end", () => {
        try {
          const j = JSON.parse(text);
          if (!(r.statusCode === 200 && j.success) && j.errorMessage) refusals.set(j.errorMessage, (refusals.get(j.errorMessage) ?? 0) + 1);
          resolve(r.statusCode === 200 && j.success ? 200 : `${r.statusCode} ${j.errorReason ?? j.code ?? ""}`.trim());
        } catch { resolve(r.statusCode); }
      });
      r.on("error", (e) => resolve(`ERR ${e.code ?? e.message}`));
    });
    req.on("error", (e) => resolve(`ERR ${e.code ?? e.message}`));
    req.end(body);
  });
  const settleRun = async (from, n) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const statuses = {}, latencies = [];
    let next = 0;
    const started = performance.now(), deadline = started + cfg.seconds * 1000;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < n && performance.now() < deadline) {
        const body = bodies[from + next++];
        const t0 = performance.now();
        const status = await post(agent, body);
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === 200) latencies.push(performance.now() - t0);
      }
    }));
    const elapsed = (performance.now() - started) / 1000;
    agent.destroy();
    latencies.sort((a, b) => a - b);
    const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : NaN);
    return { sent: next, ok: latencies.length, statuses, elapsed, rps: latencies.length / elapsed, p50: pct(0.5), p95: pct(0.95), p99: pct(0.99) };
  };
  const chainBefore = await chainMark();
  const w = await settleRun(0, warm);
  const m = await settleRun(w.sent, count);
  const chain = chainUse(chainBefore, await chainMark(), w.sent + m.sent);
  rows.push({ name: "gateway: facilitator /settle (built-in), settlements/s", group: "x402", concurrency, ...m, expect: 200, payTo,
    mode: "facilitator", linkId: null, base: null, okWithWarmup: m.ok + w.ok, warmStatuses: w.statuses, chain });
  for (const [message, n] of refusals) log(`facilitator /settle refused ${n}×: ${message}`);
  log(`facilitator /settle c${concurrency}: ${m.ok}/${m.sent} settled in ${m.elapsed.toFixed(1)}s, ${m.rps.toFixed(0)}/s, p50 ${m.p50.toFixed(2)} ms, ` +
    `anvil CPU ${chain.cpuPerCall.toFixed(2)} ms and ${chain.perBlock.toFixed(1)} settlements per block`);
}
// ---- end facilitator ----
// Deferred rows last: their answers do not wait for the chain, their settlement (bounded below) does.
for (const x of x402Rows.filter((x) => x.mode === "deferred")) await x402Row(x);
const deferredRows = rows.filter((r) => r.mode === "deferred");
const deferredBacklog = deferredRows.reduce((n, r) => n + r.okWithWarmup, 0) - (await Promise.all(deferredRows.map((r) => transfersTo(r.payTo)))).reduce((a, b) => a + b, 0);
const settleWaited = await awaitSettlement(deferredRows, cfg.settleWaitSeconds);
const settled = rows.filter((r) => r.payTo);
await awaitSettlement(settled, Number(process.env.BENCH_FINAL_WAIT ?? 30));
// Where the gateway's payments of a row that does not add up stand (each status counted up to 500).
for (const r of settled.filter((x) => x.linkId && x.onChain !== x.okWithWarmup)) {
  const counts = [];
  try {
    for (const status of ["reserved", "pending", "settling", "failed", "expired"]) {
      const list = await api("GET", `/api/payments?linkId=${r.linkId}&status=${status}&limit=500`, undefined, r.base);
      const n = (list.items ?? []).length;
      if (n) counts.push(`${status} ${n}${n === 500 ? "+" : ""}`);
    }
  } catch (e) {
    counts.push(`payments not listed: ${e.message}`);
  }
  r.gatewayStatuses = counts.join(", ") || "none unsettled";
}

// The SQLite gateway's user+system CPU time so far, in ms (/proc/<pid>/stat, clock ticks of 10 ms).
function gatewayCpuMs() { return cpuMs(cfg.gatewayPid); }
function cpuMs(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch { return NaN; }
}
// What a chain-bound row cost the chain: anvil's CPU time and the blocks it mined, per paid request (warm-up included).
async function chainMark() { return { cpu: cpuMs(cfg.anvilPid), block: Number(await rpc("eth_blockNumber", [])) }; }
function chainUse(before, after, requests) {
  return { cpuPerCall: (after.cpu - before.cpu) / requests, perBlock: requests / Math.max(1, after.block - before.block) };
}

// ---- soak (BENCH_SOAK_SECONDS): the credits-paid call at half the peak measured in this run, a minute at a time, with
// the gateway's resident memory (/proc/<pid>/status) after each minute ----
const rssKb = () => {
  try { return Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${cfg.gatewayPid}/status`, "utf8"))[1]); } catch { return NaN; }
};
let soak = null;
if (cfg.soakSeconds > 0) {
  const g = gateways[0];
  const headers = { Authorization: `Bearer ${g.payer.key}` };
  let peak = rows.find((r) => r.name === "gateway: credits-paid")?.rps;
  if (!Number.isFinite(peak)) peak = (await wrkPaid({ url: g.credits.url, concurrency: proxyC, headers, seconds: 10 })).rps;
  soak = { peak, rate: peak / 2, rssStart: rssKb(), minutes: [] };
  log(`soak: credits-paid c${proxyC} at ${soak.rate.toFixed(0)} req/s (half of ${peak.toFixed(0)}) for ${cfg.soakSeconds}s, RSS ${(soak.rssStart / 1024).toFixed(0)} MiB`);
  for (let left = cfg.soakSeconds; left > 0; left -= 60) {
    const m = await wrkPaid({ url: g.credits.url, concurrency: proxyC, headers, seconds: Math.min(60, left), rate: soak.rate });
    const errors = Object.entries(m.statuses).filter(([k]) => k !== "200").reduce((n, [, v]) => n + v, 0);
    soak.minutes.push({ ...m, errors, rss: rssKb() });
    log(`soak minute ${soak.minutes.length}: ${m.ok} 200s, ${errors} other, ${m.rps.toFixed(0)} req/s, p99 ${m.p99.toFixed(2)} ms, RSS ${(rssKb() / 1024).toFixed(0)} MiB`);
  }
  soak.rssEnd = soak.minutes.at(-1).rss;
  soak.errors = soak.minutes.reduce((n, m) => n + m.errors, 0);
}

// ---- report ----
const nginxRps = rows.find((r) => r.name === "nginx proxy_pass").rps;
const refRps = Object.fromEntries(rows.filter((r) => r.mode === "reference").map((r) => [r.concurrency, r.rps]));
const f = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : "–");
const lines = [
  "| row | conc. | sent | success | other statuses | req/s | p50 ms | p95 ms | p99 ms | ratio | on chain / 200s |",
  "|---|--:|--:|--:|---|--:|--:|--:|--:|--:|---|",
];
for (const r of rows) {
  const other = Object.entries(r.statuses).filter(([s]) => String(s) !== String(r.expect)).map(([s, n]) => `${s}×${n}`).join(", ") || "none";
  const ratio = r.group === "proxy" ? r.rps / nginxRps : r.rps / refRps[r.concurrency];
  const ratioText = r.group === "proxy" ? `${f(ratio, 2)}× nginx` : r.group === "catalogue" || r.group === "dashboard" ? "" : `${f(ratio, 2)}× ref`;
  const chainText = r.payTo ? `${r.onChain} / ${r.okWithWarmup}${r.onChain === r.okWithWarmup ? " ✓" : ` ✗${r.gatewayStatuses ? ` (gateway: ${r.gatewayStatuses})` : ""}`}` : "";
  lines.push(`| ${r.name} | ${r.concurrency} | ${r.sent} | ${r.ok} (${r.expect}) | ${other} | ${f(r.rps)} | ${f(r.p50, 2)} | ${f(r.p95, 2)} | ${f(r.p99, 2)} | ${ratioText} | ${chainText} |`);
}
const osRelease = (() => { try { return /PRETTY_NAME="([^"]+)"/.exec(fs.readFileSync("/etc/os-release", "utf8"))[1]; } catch { return os.type(); } })();
const md = [
  "# Benchmark results",
  "",
  `Produced by \`bench/run.sh${cfg.smoke ? " --smoke" : ""}\`.`,
  "",
  `- date: ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}`,
  `- commit: ${cfg.commit}`,
  `- machine: ${os.cpus().length} cores (${os.cpus()[0]?.model?.trim() ?? "?"}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${osRelease}, kernel ${os.release()}`,
  // Other work on the machine moves every row; the load average says how much there was besides the benchmark's own.
  `- load average (1 min) when the rows started: ${startLoad.toFixed(2)}; when they ended: ${os.loadavg()[0].toFixed(2)}`,
  `- software: .NET ${cfg.dotnet}, Node.js ${process.version}, ${cfg.nginxVersion}, anvil ${cfg.anvilVersion}, @x402/* 2.27.0`,
  `- proxy rows: wrk (${Math.min(2, cfg.proxyConcurrency)} threads, ${cfg.proxyConcurrency} connections), ${cfg.proxyWarmupSeconds} s warm-up then ${cfg.proxySeconds} s measured`,
  `- x402 rows: ${cfg.warmup} warm-up requests (paid like the rest, not in the figures), then up to ${cfg.paidRequests} requests (deferred) ` +
    `or ${cfg.syncRequests} (sync, reference), each stopped after ${cfg.seconds} s at most`,
  "",
  ...lines,
  "",
  "- Everything runs on loopback on the same machine, the load generators included: figures compare rows side by",
  "  side, they are not capacity. Proxy rows are driven by wrk (wrk-report.lua); " + (x402Generator === "wrk"
    ? "x402 rows by wrk too (wrk-paid.lua: `conc.` threads of one keep-alive connection each, each sending its own slice of the payments), "
    : "x402 rows by one Node.js process (keep-alive pool of `conc.` connections), ") + "and ratios are taken only within each group.",
  "- req/s counts only successful answers (200; 402 for the unpaid row) over the row's span (first request to last answer);",
  "  `other statuses` lists every other answer",
  "  (`ERR …` is a connection error). Percentiles: x402 rows over successful answers; proxy rows are wrk's, over all.",
  "- Every paid request carries a payment never used before, signed before its row starts with the official x402 v2",
  `  client (\`PAYMENT-SIGNATURE\`), rotating over ${cfg.payers} funded payer wallets; signing took ${f(signing.seconds, 1)} s for ${signing.payments} payments`,
  `  (${os.cpus().length} worker threads, ${f(signing.payments / signing.seconds)} per second). Credits-paid calls use one payer key.`,
  "- ratio: proxy rows against nginx; x402 rows against the reference stack (`@x402/express` + the official",
  "  facilitator, same upstream, same chain) at the same concurrency.",
  ...(rows.some((r) => r.mode === "facilitator") ? ["- facilitator /settle: fresh payments POSTed straight to the gateway's `/facilitator/settle` (operator key), no",
    "  paid link around them; a success is `success: true` with its transaction mined; ratio against the reference stack at c16,",
    "  whose paid req/s the official facilitator's settlements bound."] : []),
  `- on chain / 200s: \`Transfer\` events of the token to the row's own \`payTo\` after the rows, against the row's 200s`,
  `  (warm-up included). Deferred rows are settled by the gateway's worker after their answers, so their count is bounded`,
  "  by settlement, not by the generator: every payment must land within the wait below and its authorization's validity",
  `  (300 s from signing). The deferred rows run last (below); after them, ${deferredBacklog}`,
  `  payments were still to settle, and the run waited ${f(settleWaited)} s for them (bound ${cfg.settleWaitSeconds} s).`,
  "- Order of the x402 rows, for a chain in the same condition under every comparison: anvil recomputes its state root",
  "  from every storage slot on each block it mines, and each EIP-3009 settlement adds a slot (its authorization's used",
  "  flag), so each settlement makes later blocks dearer for every row alike (`bench/anvil-probe.mjs` on a bare anvil,",
  "  this machine loaded: a sequential transferWithAuthorization took 6.2, 10.4 and 15.2 ms after 100, 1,700 and 3,300",
  "  authorizations used, while plain transfers between a few accounts stayed at 3–6 ms). The sync rows and the reference therefore run before the deferred",
  "  rows' thousands of settlements, one concurrency at a time, the reference first: the gateway's rows are never",
  "  measured on a fresher chain than the reference they are compared with (they follow its ~" + (cfg.warmup + cfg.syncRequests) + " settlements).",
  "  anvil runs with `--prune-history 64` (64 recent states kept in memory, none written to disk: by default each block",
  "  also persists a snapshot of the whole state, and the same probe took 4.5, 26.5 and 48.9 ms); it applies to every row alike.",
  "- CPU per call (the SQLite gateway's user+system time from /proc over the row; Kestrel alone's own for its rows): " + rows.filter((r) => Number.isFinite(r.cpuPerCall))
    .map((r) => `${r.name.replace("gateway: ", "")} c${r.concurrency} ${f(r.cpuPerCall, 2)} ms`).join("; ") + ".",
  ...(rows.some((r) => r.name.startsWith("Kestrel alone")) ? ["- Kestrel alone: the bench tool's bare ASP.NET Core app (`X402Serverless.Bench kestrel`), same runtime and",
    "  machine, none of the gateway in it: the gateway's own 402 (status, `PAYMENT-REQUIRED`, body) written as fixed bytes, and",
    "  each call sent to the same upstream with a bare pooled HttpClient and copied back. What the framework itself gives here;",
    "  the gateway's 402 and credits-paid rows are that plus the gateway's work."] : []),
  ...(rows.some((r) => r.chain) ? ["- the chain's side of the sync rows (anvil's user+system time from /proc, and the blocks it mined, over the row,",
    "  warm-up included): " + rows.filter((r) => r.chain).map((r) => `${r.name.replace("gateway: ", "").replace(/ \(built-in\).*$/, "").replace(": @x402/express + official facilitator", "")} c${r.concurrency} ` +
    `${f(r.chain.cpuPerCall, 2)} ms, ${f(r.chain.perBlock, 1)} per block`).join("; ") + "."] : []),
  ...(rows.some((r) => r.group === "catalogue") ? [`- catalogue rows: ${cfg.catalogueLinks} listed links seeded through the management API on the SQLite`,
    "  gateway, then wrk like the proxy rows on the public documents: the catalogue page (`Accept: text/html`), discovery",
    "  (`?limit=100`) and `/openapi.json`, asked with `Accept-Encoding: gzip` as browsers and crawlers ask, fresh (200) and",
    "  revalidated with the ETag of the previous answer (304); `/openapi.json` also uncompressed (`identity`). No ratio."] : []),
  ...(rows.some((r) => r.group === "dashboard") ? ["- dashboard rows: one organisation's link with 1,000 and then 1,000,000 settled x402 payments written",
    "  in bulk into the SQLite gateway's database with the usage counters the paid path keeps for them (90 days, 10 wallets: the same",
    "  counter rows at both sizes),",
    "  then wrk at concurrency 4 on `GET /api/usage/daily?days=90` and the console's dashboard (`/console?days=90`, signed in):",
    "  both read the daily counters, never the payments, so the two sizes answer alike. No ratio."] : []),
  ...(cfg.gatewayTable ? ["- [Table Storage]: a second gateway, the same build and settings but on Table Storage (Azurite, the npm",
    "  emulator, in memory on loopback) with its own gas wallet (anvil account #2), as in Azure minus the network."] : []),
  `- Upstream: nginx answering a small JSON body. Chain: anvil (automine, \`--prune-history 64\`) with an EIP-3009 test token${process.env.BENCH_MULTICALL3 === "0" ? "" : " and Multicall3 at its canonical address, as on public chains (the built-in facilitator settles transfers that arrive while it sends in one `aggregate3` transaction: docs/settlement-batching.md)"}. Gateway:`,
  "  the published app (`dotnet publish`, self-contained, ReadyToRun, as deployed), standalone, SQLite, built-in facilitator with its own gas wallet (anvil account #1); the official",
  "  facilitator (bench/facilitator.mjs: viem nonce manager; each receipt asked for as the gateway asks, at once then",
  "  at growing intervals, 2 ms doubling to 200 ms) uses anvil account #0. Deferred links serve any wallet content-first (`deferredPayers: \"any\"`) with",
  "  the per-wallet bound on unsettled payments lifted (`X402__Settlement__DeferredMaxInFlightPerPayer`).",
  "",
  ...(soak ? [
    `## Soak: gateway: credits-paid, c${proxyC}, ${cfg.soakSeconds} s at ${f(soak.rate)} req/s (half of this run's ${f(soak.peak)})`,
    "",
    `RSS ${f(soak.rssStart / 1024, 1)} MiB at the start, ${f(soak.rssEnd / 1024, 1)} MiB at the end: ` +
      `${f((100 * (soak.rssEnd - soak.rssStart)) / soak.rssStart, 1)}% growth; ${soak.errors} answers other than 200.`,
    "",
    "| minute | 200s | other | req/s | p50 ms | p99 ms | RSS MiB |",
    "|--:|--:|--:|--:|--:|--:|--:|",
    ...soak.minutes.map((m, i) => `| ${i + 1} | ${m.ok} | ${m.errors} | ${f(m.rps)} | ${f(m.p50, 2)} | ${f(m.p99, 2)} | ${f(m.rss / 1024, 1)} |`),
    "",
    "- Rate-limited by wrk-paid.lua (each connection's requests scheduled at fixed intervals from its start, late ones",
    "  caught up); RSS is the gateway process's VmRSS after each minute.",
    "",
  ] : []),
].join("\n");
fs.writeFileSync(cfg.out, md);
console.log(md);

// A row that could not run at all: not one successful answer, warm-up included.
const dead = rows.filter((r) => r.okWithWarmup === 0);
if (dead.length) {
  log(`FAILED: no successful answer in: ${dead.map((r) => `${r.name} c${r.concurrency}`).join("; ")}`);
  process.exit(1);
}
