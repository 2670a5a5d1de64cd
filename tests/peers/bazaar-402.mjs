// Reads a link's 402 as a Bazaar facilitator would: the official client parses the PAYMENT-REQUIRED header and
// builds its payment payload (signed offline by a throwaway key; nothing is sent), then @x402/extensions'
// extractDiscoveryInfo validates and extracts the bazaar extension. v1: the same on the JSON body's first entry.
// Prints {extension, validation, v2, v1}; v2/v1 are null when the 402 declares no (valid) discovery.
// Usage: node bazaar-402.mjs <url> [method]
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { x402Client, x402HTTPClient } from "@x402/fetch";
import { toClientEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { extractDiscoveryInfo, validateDiscoveryExtension } from "@x402/extensions/bazaar";

const [url, method = "GET"] = process.argv.slice(2);
const res = await fetch(url, { method, headers: { Accept: "application/json" } });
if (res.status !== 402) {
  throw new Error(`expected 402, got ${res.status}`);
}
const text = await res.text();
const body = text ? JSON.parse(text) : undefined;
const client = new x402Client().register("eip155:*", new ExactEvmScheme(toClientEvmSigner(privateKeyToAccount(generatePrivateKey()))));
const http = new x402HTTPClient(client);
const paymentRequired = http.getPaymentRequiredResponse((name) => res.headers.get(name));
const payload = await client.createPaymentPayload(paymentRequired);
const extension = paymentRequired.extensions?.bazaar ?? null;
const v1Requirements = body?.accepts?.[0];
console.log(JSON.stringify({
  extension,
  validation: extension ? validateDiscoveryExtension(extension) : null,
  v2: extractDiscoveryInfo(payload, payload.accepted),
  v1: v1Requirements ? extractDiscoveryInfo({ x402Version: 1, scheme: "exact", network: v1Requirements.network, payload: {} }, v1Requirements) : null,
}));
