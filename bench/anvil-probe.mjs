// How anvil's per-transaction cost grows with the state it holds: a bare anvil (started here with the flags given) and the
// EIP-3009 test token, then rounds of "probe" (sequential transactions, each waited for: ms per transaction) and "fill"
// (a bulk of pipelined transactions, the kind chosen), so the probe's cost can be read against the state written so far.
// Usage: node bench/anvil-probe.mjs <kind: auth|transfer-few|transfer-fresh|rpc-costs> <rounds> <fill per round> [anvil flags...]
//   auth: EIP-3009 transferWithAuthorization (a new authorization-state slot each); transfer-few: plain transfers
//   between 8 accounts (no new slot); transfer-fresh: plain transfers to a new address each (a new balance slot each);
//   rpc-costs: anvil's CPU time per read that a settlement makes, on the fresh chain.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { encodeFunctionData, getAddress, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { localChain, walletFor, artifact } from "../tests/peers/chain.mjs";

const [kind = "auth", roundsArg = "4", fillArg = "2000", ...anvilFlags] = process.argv.slice(2);
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

const DEPLOYER = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const SENDER = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"; // account #1 sends every measured tx
const chain = await localChain(rpcUrl);
const { wallet } = walletFor(chain, rpcUrl, DEPLOYER);
const { abi, bytecode } = artifact();
const deployed = await wallet.waitForTransactionReceipt({ hash: await wallet.deployContract({ abi, bytecode, args: [] }) });
const token = getAddress(deployed.contractAddress);
const payerKeys = Array.from({ length: 8 }, () => generatePrivateKey());
const payers = payerKeys.map((k) => privateKeyToAccount(k));
const sender = privateKeyToAccount(SENDER);
for (const a of [...payers.map((p) => p.address), sender.address]) {
  await wallet.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: token, abi, functionName: "mint", args: [a, 10n ** 15n] }) });
}
const domain = { name: "USD Coin", version: "2", chainId: chain.id, verifyingContract: token };
const types = { TransferWithAuthorization: [{ name: "from", type: "address" }, { name: "to", type: "address" }, { name: "value", type: "uint256" },
  { name: "validAfter", type: "uint256" }, { name: "validBefore", type: "uint256" }, { name: "nonce", type: "bytes32" }] };
const payTo = privateKeyToAccount(generatePrivateKey()).address;
let nonce = await rpc("eth_getTransactionCount", [sender.address, "pending"]).then(Number);
const gasPrice = BigInt(await rpc("eth_gasPrice", [])) * 2n;
let seq = 0;
/** One signed raw transaction of the chosen kind from the sender, with the next nonce. */
async function nextTx() {
  const i = seq++;
  let data;
  if (kind === "auth") {
    const p = payers[i % payers.length];
    const message = { from: p.address, to: payTo, value: 1000n, validAfter: 0n, validBefore: 2n ** 48n, nonce: toHex(crypto.getRandomValues(new Uint8Array(32))) };
    const signature = await p.signTypedData({ domain, types, primaryType: "TransferWithAuthorization", message });
    data = encodeFunctionData({ abi, functionName: "transferWithAuthorization", args: [message.from, message.to, message.value, message.validAfter, message.validBefore, message.nonce, signature] });
  } else {
    const to = kind === "transfer-fresh" ? privateKeyToAccount(generatePrivateKey()).address : payers[i % payers.length].address;
    data = encodeFunctionData({ abi, functionName: "transfer", args: [to, 1n] });
  }
  return sender.signTransaction({ chainId: chain.id, type: "legacy", to: token, data, gas: 200_000n, gasPrice, nonce: nonce++ });
}
async function receipt(hash) {
  for (;;) { const r = await rpc("eth_getTransactionReceipt", [hash]); if (r) { if (r.status !== "0x1") throw new Error(`reverted ${hash}`); return r; } }
}
const probe = async (n) => {
  const raws = []; for (let i = 0; i < n; i++) raws.push(await nextTx());
  const t0 = performance.now();
  for (const raw of raws) await receipt(await rpc("eth_sendRawTransaction", [raw]));
  return (performance.now() - t0) / n;
};
const fill = async (n) => {
  const raws = []; for (let i = 0; i < n; i++) raws.push(await nextTx());
  const t0 = performance.now();
  const hashes = [];
  for (let i = 0; i < raws.length; i += 32) hashes.push(...await Promise.all(raws.slice(i, i + 32).map((raw) => rpc("eth_sendRawTransaction", [raw]))));
  await receipt(hashes.at(-1));
  return n / ((performance.now() - t0) / 1000);
};
console.log(`kind ${kind}, anvil ${anvilFlags.join(" ") || "(defaults)"}`);
if (kind === "rpc-costs") {
  // anvil's CPU time per read a settlement makes (/proc/<pid>/stat, 10 ms ticks), 500 of each, sequential.
  const cpu = () => { const f = fs.readFileSync(`/proc/${anvil.pid}/stat`, "utf8").split(") ")[1].split(" "); return (Number(f[11]) + Number(f[12])) * 10; };
  const p = payers[0];
  const message = { from: p.address, to: payTo, value: 1000n, validAfter: 0n, validBefore: 2n ** 48n, nonce: toHex(crypto.getRandomValues(new Uint8Array(32))) };
  const signature = await p.signTypedData({ domain, types, primaryType: "TransferWithAuthorization", message });
  const data = encodeFunctionData({ abi, functionName: "transferWithAuthorization", args: [message.from, message.to, message.value, message.validAfter, message.validBefore, message.nonce, signature] });
  const balanceOf = encodeFunctionData({ abi, functionName: "balanceOf", args: [p.address] });
  const mined = await receipt(await rpc("eth_sendRawTransaction", [await nextTx()]));
  const calls = {
    "eth_call balanceOf": ["eth_call", [{ from: sender.address, to: token, data: balanceOf }, "latest"]],
    "eth_estimateGas transferWithAuthorization": ["eth_estimateGas", [{ from: sender.address, to: token, data }]],
    "eth_call transferWithAuthorization": ["eth_call", [{ from: sender.address, to: token, data }, "latest"]],
    "eth_getTransactionReceipt (mined)": ["eth_getTransactionReceipt", [mined.transactionHash]],
    "eth_getTransactionReceipt (unknown)": ["eth_getTransactionReceipt", [toHex(crypto.getRandomValues(new Uint8Array(32)))]],
    "eth_blockNumber": ["eth_blockNumber", []],
  };
  for (const [name, [method, params]] of Object.entries(calls)) {
    const c0 = cpu(), t0 = performance.now();
    for (let i = 0; i < 500; i++) await rpc(method, params);
    console.log(`${name}: anvil CPU ${((cpu() - c0) / 500).toFixed(3)} ms, wall ${((performance.now() - t0) / 500).toFixed(3)} ms`);
  }
  const c0 = cpu(), t0 = performance.now();
  for (let i = 0; i < 300; i++) await rpc("eth_sendRawTransaction", [await nextTx()]);
  await receipt(await rpc("eth_sendRawTransaction", [await nextTx()]));
  console.log(`transferWithAuthorization sent and mined (300, pipelined, receipt of the last): anvil CPU ${((cpu() - c0) / 301).toFixed(3)} ms each, wall ${((performance.now() - t0) / 301).toFixed(3)} ms`);
  process.exit(0);
}
let total = 0;
for (let round = 0; round <= Number(roundsArg); round++) {
  const ms = await probe(100);
  total += 100;
  console.log(`after ${String(total).padStart(6)} txs: probe ${ms.toFixed(2)} ms/tx sequential`);
  if (round === Number(roundsArg)) break;
  const rate = await fill(Number(fillArg));
  total += Number(fillArg);
  console.log(`  fill ${fillArg}: ${rate.toFixed(0)} tx/s pipelined`);
}
process.exit(0);
