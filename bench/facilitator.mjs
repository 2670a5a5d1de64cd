// The official x402 facilitator (@x402/core + @x402/evm, v2 exact scheme) for the benchmark, served over node:http on
// loopback like tests/peers/facilitator.mjs, but set up for concurrent load on a local chain, so the reference stack
// is measured at its best: viem's nonce manager hands out the gas wallet's nonces (without it, concurrent settlements
// race for the same nonce and fail), and each receipt is asked for as the gateway's built-in facilitator asks: at once,
// then at growing intervals (2 ms doubling to 200 ms), so it too learns of a transaction anvil mined on arrival within
// milliseconds (viem's own wait watches the block number, every 4 s by default on a chain it does not know).
// Usage: node facilitator.mjs <rpcUrl> <gasKey> <network e.g. eip155:84532>. Prints "listening <port>" once ready.
import http from "node:http";
import { createWalletClient, http as viemHttp, nonceManager, publicActions } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { x402Facilitator } from "@x402/core/facilitator";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/facilitator";
import { localChain } from "../tests/peers/chain.mjs";

const [rpcUrl, gasKey, network] = process.argv.slice(2);
const chain = await localChain(rpcUrl);
const account = privateKeyToAccount(gasKey, { nonceManager });
const wallet = createWalletClient({ account, chain, transport: viemHttp(rpcUrl), pollingInterval: 200 }).extend(publicActions);
const signer = toFacilitatorEvmSigner({
  address: account.address,
  getCode: (a) => wallet.getCode(a),
  readContract: (a) => wallet.readContract({ ...a, args: a.args ?? [] }),
  verifyTypedData: (a) => wallet.verifyTypedData(a),
  writeContract: (a) => wallet.writeContract({ ...a, args: a.args ?? [] }),
  sendTransaction: (a) => wallet.sendTransaction(a),
  // The gateway's own receipt policy: asked at once, then after 2 ms, doubling up to 200 ms. (viem's block-watching
  // wait, set to a 10 ms interval, was seen to hold one settlement for its whole 30 s timeout on anvil.)
  waitForTransactionReceipt: async ({ hash, timeout = 30_000 }) => {
    const deadline = Date.now() + timeout;
    for (let wait = 2; ; wait = Math.min(wait * 2, 200)) {
      try {
        return await wallet.getTransactionReceipt({ hash });
      } catch (e) {
        if (e?.name !== "TransactionReceiptNotFoundError" || Date.now() > deadline) throw e;
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  },
}, { confirmationTimeoutMs: 30_000 });
const facilitator = new x402Facilitator().register(network, new ExactEvmScheme(signer));

const counts = { verify: 0, settle: 0, failed: 0 };
const send = (res, status, body) => { res.writeHead(status, { "content-type": "application/json" }); res.end(JSON.stringify(body)); };
const server = http.createServer(async (req, res) => {
  try {
    if (req.method === "GET" && req.url === "/supported") return send(res, 200, facilitator.getSupported());
    if (req.method === "GET" && req.url === "/stats") return send(res, 200, counts);
    if (req.method !== "POST" || !["/verify", "/settle"].includes(req.url)) return send(res, 404, { error: "not found" });
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const { paymentPayload, paymentRequirements } = JSON.parse(raw);
    if (req.url === "/verify") { counts.verify++; return send(res, 200, await facilitator.verify(paymentPayload, paymentRequirements)); }
    counts.settle++;
    const settled = await facilitator.settle(paymentPayload, paymentRequirements);
    if (!settled.success) { counts.failed++; console.log(`settle refused: ${settled.errorReason} ${settled.errorMessage ?? ""}`); }
    return send(res, 200, settled);
  } catch (e) {
    console.log(`error: ${e?.message ?? e}`);
    return send(res, 500, { error: String(e?.message ?? e) });
  }
});
server.listen(0, "127.0.0.1", () => console.log(`listening ${server.address().port}`));
