// The official x402 facilitator (@x402/core + @x402/evm, v2 exact scheme) for the benchmark, served over node:http on
// loopback like tests/peers/facilitator.mjs, but set up for concurrent load on a local chain, so the reference stack
// is measured at its best: viem's nonce manager hands out the gas wallet's nonces (without it, concurrent settlements
// race for the same nonce and fail), and receipts are polled every 10 ms (viem's default is 4 s on a chain it does not
// know), so a transaction anvil mines on arrival is seen within milliseconds, as the gateway's built-in facilitator
// sees it (asked at once, then at growing intervals).
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
const wallet = createWalletClient({ account, chain, transport: viemHttp(rpcUrl), pollingInterval: 10 }).extend(publicActions);
const signer = toFacilitatorEvmSigner({
  address: account.address,
  getCode: (a) => wallet.getCode(a),
  readContract: (a) => wallet.readContract({ ...a, args: a.args ?? [] }),
  verifyTypedData: (a) => wallet.verifyTypedData(a),
  writeContract: (a) => wallet.writeContract({ ...a, args: a.args ?? [] }),
  sendTransaction: (a) => wallet.sendTransaction(a),
  waitForTransactionReceipt: (a) => wallet.waitForTransactionReceipt({ pollingInterval: 10, ...a }),
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
