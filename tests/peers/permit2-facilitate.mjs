// The official client signs a Permit2 "exact" payment (extra.assetTransferMethod "permit2") and the official
// facilitator verifies and settles it: the reference check of the tests' Permit2 and proxy contracts.
// Usage: node permit2-facilitate.mjs <facilitatorUrl> <payerKey> <network> <token> <payTo> <atomic>
// Prints {payload, verify, settle}.
import { privateKeyToAccount } from "viem/accounts";
import { toClientEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/client";

const [facilitatorUrl, payerKey, network, asset, payTo, amount] = process.argv.slice(2);
const requirements = { scheme: "exact", network, asset, payTo, amount, maxTimeoutSeconds: 60,
  extra: { name: "USD Coin", version: "2", assetTransferMethod: "permit2" } };
const scheme = new ExactEvmScheme(toClientEvmSigner(privateKeyToAccount(payerKey)));
const created = await scheme.createPaymentPayload(2, requirements);
const paymentPayload = { ...created, accepted: requirements, resource: { url: "http://localhost/permit2" } };
const post = async (route) => (await fetch(facilitatorUrl + route, { method: "POST", headers: { "content-type": "application/json" },
  body: JSON.stringify({ x402Version: 2, paymentPayload, paymentRequirements: requirements }) })).json();
const verify = await post("/verify");
const settle = await post("/settle");
console.log(JSON.stringify({ payload: paymentPayload, verify, settle }));
