// The official x402 facilitator (@x402/core + @x402/evm), v2 and v1 schemes, served over node:http on loopback.
// Usage: node facilitator.mjs <rpcUrl> <gasKey> <v2Network e.g. eip155:84532> <v1Network e.g. base-sepolia>
// Prints "listening <port>" once ready. Like a Bazaar facilitator, it catalogues what each settled payment declares
// (@x402/extensions' extractDiscoveryInfo); GET /discovered lists it, so tests see what a real catalogue would hold.
import http from "node:http";
import { x402Facilitator } from "@x402/core/facilitator";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/facilitator";
import { ExactEvmSchemeV1 } from "@x402/evm/exact/v1/facilitator";
import { extractDiscoveryInfo } from "@x402/extensions/bazaar";
import { localChain, walletFor } from "./chain.mjs";

const [rpcUrl, gasKey, v2Network, v1Network] = process.argv.slice(2);
const chain = await localChain(rpcUrl);
const { account, wallet } = walletFor(chain, rpcUrl, gasKey);
const signer = toFacilitatorEvmSigner({
  address: account.address,
  getCode: (a) => wallet.getCode(a),
  readContract: (a) => wallet.readContract({ ...a, args: a.args ?? [] }),
  verifyTypedData: (a) => wallet.verifyTypedData(a),
  writeContract: (a) => wallet.writeContract({ ...a, args: a.args ?? [] }),
  sendTransaction: (a) => wallet.sendTransaction(a),
  waitForTransactionReceipt: (a) => wallet.waitForTransactionReceipt(a),
}, { confirmationTimeoutMs: 30_000 });
const facilitator = new x402Facilitator().register(v2Network, new ExactEvmScheme(signer));
if (v1Network) facilitator.registerV1(v1Network, new ExactEvmSchemeV1(signer));

const counts = { verify: 0, settle: 0 };
const discovered = [];
const send = (res, status, body) => { res.writeHead(status, { "content-type": "application/json" }); res.end(JSON.stringify(body)); };
const server = http.createServer(async (req, res) => {
  try {
    if (req.method === "GET" && req.url === "/supported") return send(res, 200, facilitator.getSupported());
    if (req.method === "GET" && req.url === "/stats") return send(res, 200, counts);
    if (req.method === "GET" && req.url === "/discovered") return send(res, 200, discovered);
    if (req.method !== "POST" || !["/verify", "/settle"].includes(req.url)) return send(res, 404, { error: "not found" });
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const { paymentPayload, paymentRequirements } = JSON.parse(raw);
    if (!paymentPayload || !paymentRequirements) return send(res, 400, { error: "paymentPayload and paymentRequirements are required" });
    if (req.url === "/verify") { counts.verify++; return send(res, 200, await facilitator.verify(paymentPayload, paymentRequirements)); }
    counts.settle++;
    const settled = await facilitator.settle(paymentPayload, paymentRequirements);
    const found = settled.success ? extractDiscoveryInfo(paymentPayload, paymentRequirements) : null;
    if (found) discovered.push(found);
    return send(res, 200, settled);
  } catch (e) {
    return send(res, 500, { error: String(e?.message ?? e) });
  }
});
server.listen(0, "127.0.0.1", () => console.log(`listening ${server.address().port}`));
