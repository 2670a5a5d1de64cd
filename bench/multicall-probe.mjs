// What batching EIP-3009 settlements through Multicall3 saves anvil: N transferWithAuthorization sent one per
// transaction, then the same number in aggregate3 batches of each size given, on one bare anvil (fresh chain, flags
// as given), each kind pipelined and waited for. anvil's CPU (user+system from /proc/<pid>/stat) and wall time per settlement.
// Usage: node bench/multicall-probe.mjs <settlements per kind> <batch sizes, comma-separated> [anvil flags...]
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { encodeFunctionData, getAddress, toHex, multicall3Abi } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { localChain, walletFor, artifact } from "../tests/peers/chain.mjs";
import { placeMulticall3, MULTICALL3 } from "../tests/peers/deploy-multicall3.mjs";

const [nArg = "64", sizesArg = "8,16", ...anvilFlags] = process.argv.slice(2);
const n = Number(nArg);
const here = path.dirname(fileURLToPath(import.meta.url));
const anvilBin = path.join(here, "../tests/peers/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
const port = await new Promise((r) => { const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => r(p)); }); });
const anvil = spawn(anvilBin, ["--host", "127.0.0.1", "--port", String(port), "--chain-id", "84532", "--silent", ...anvilFlags], { stdio: "ignore" });
process.on("exit", () => anvil.kill());
const rpcUrl = `http://127.0.0.1:${port}`;
let id = 0;
async function rpc(method, params) {
  const r = await fetch(rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }) });
  const j = await r.json();
  if (j.error) throw new Error(`${method}: ${JSON.stringify(j.error)}`);
  return j.result;
}
for (let i = 0; ; i++) { try { await rpc("eth_chainId", []); break; } catch { if (i > 100) throw new Error("anvil did not start"); await new Promise((r) => setTimeout(r, 100)); } }
const cpu = () => { const f = fs.readFileSync(`/proc/${anvil.pid}/stat`, "utf8").split(") ")[1].split(" "); return (Number(f[11]) + Number(f[12])) * 10; };

const DEPLOYER = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const SENDER = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const chain = await localChain(rpcUrl);
const { wallet } = walletFor(chain, rpcUrl, DEPLOYER);
const { abi, bytecode } = artifact();
const token = getAddress((await wallet.waitForTransactionReceipt({ hash: await wallet.deployContract({ abi, bytecode, args: [] }) })).contractAddress);
await placeMulticall3(rpcUrl, DEPLOYER);
const payers = Array.from({ length: 16 }, () => privateKeyToAccount(generatePrivateKey()));
for (const p of payers) await wallet.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: token, abi, functionName: "mint", args: [p.address, 10n ** 15n] }) });
const domain = { name: "USD Coin", version: "2", chainId: chain.id, verifyingContract: token };
const types = { TransferWithAuthorization: [{ name: "from", type: "address" }, { name: "to", type: "address" }, { name: "value", type: "uint256" },
  { name: "validAfter", type: "uint256" }, { name: "validBefore", type: "uint256" }, { name: "nonce", type: "bytes32" }] };
const payTo = privateKeyToAccount(generatePrivateKey()).address;
const sender = privateKeyToAccount(SENDER);
let nonce = await rpc("eth_getTransactionCount", [sender.address, "pending"]).then(Number);
const gasPrice = BigInt(await rpc("eth_gasPrice", [])) * 2n;
let seq = 0;
async function authCall() {
  const p = payers[seq++ % payers.length];
  const message = { from: p.address, to: payTo, value: 1000n, validAfter: 0n, validBefore: 2n ** 48n, nonce: toHex(crypto.getRandomValues(new Uint8Array(32))) };
  const signature = await p.signTypedData({ domain, types, primaryType: "TransferWithAuthorization", message });
  return encodeFunctionData({ abi, functionName: "transferWithAuthorization", args: [message.from, message.to, message.value, message.validAfter, message.validBefore, message.nonce, signature] });
}
async function receipt(hash) {
  for (;;) { const r = await rpc("eth_getTransactionReceipt", [hash]); if (r) return r; }
}
async function run(label, batch) {
  const raws = [];
  for (let i = 0; i < n; i += batch) {
    const calls = []; for (let j = 0; j < batch && i + j < n; j++) calls.push(await authCall());
    const tx = batch === 1
      ? { to: token, data: calls[0], gas: 150_000n }
      : { to: MULTICALL3, data: encodeFunctionData({ abi: multicall3Abi, functionName: "aggregate3", args: [calls.map((callData) => ({ target: token, allowFailure: true, callData }))] }), gas: 150_000n * BigInt(calls.length) };
    raws.push(await sender.signTransaction({ chainId: chain.id, type: "legacy", ...tx, gasPrice, nonce: nonce++ }));
  }
  const c0 = cpu(), t0 = performance.now();
  const hashes = await Promise.all(raws.map((raw) => rpc("eth_sendRawTransaction", [raw])));
  const receipts = [];
  for (const h of hashes) receipts.push(await receipt(h));
  const wall = performance.now() - t0, used = cpu() - c0;
  const transfers = receipts.reduce((s, r) => s + r.logs.filter((l) => l.topics[0] === "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef").length, 0);
  const gas = receipts.reduce((s, r) => s + BigInt(r.gasUsed), 0n);
  console.log(`${label}: ${raws.length} txs, ${transfers}/${n} transfers; anvil CPU ${(used / n).toFixed(2)} ms/settlement, wall ${(wall / n).toFixed(2)} ms/settlement, gas ${gas / BigInt(n)}/settlement`);
  return used / n;
}
console.log(`N=${n}, anvil ${anvilFlags.join(" ") || "(defaults)"}, load ${fs.readFileSync("/proc/loadavg", "utf8").trim()}`);
await run("warm-up, one per tx", 1);
for (let round = 0; round < 2; round++) {
  const single = await run("one per transaction", 1);
  for (const size of sizesArg.split(",").map(Number)) {
    const b = await run(`aggregate3 batches of ${size}`, size);
    console.log(`  → ${(single / b).toFixed(1)}× less anvil CPU per settlement`);
  }
}
process.exit(0);
