// Signs a PaymentPayload for an MCP tool's PaymentRequired with the official x402 v2 client (@x402/core), as an
// agent's x402 client does with the structuredContent of a payment-required tool result. Prints the PaymentPayload.
// Usage: PAYER_KEY=0x.. TOKEN=0x.. NETWORK=eip155:84532 node mcp-pay.mjs < PaymentRequired.json
import { privateKeyToAccount } from "viem/accounts";
import { x402Client } from "@x402/core/client";
import { toClientEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/client";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { PAYER_KEY, TOKEN, NETWORK } = process.env;
const client = new x402Client()
  .register("eip155:*", new ExactEvmScheme(toClientEvmSigner(privateKeyToAccount(PAYER_KEY))))
  .setSpendControls({ allowedAssets: [{ network: NETWORK, asset: TOKEN }] });
const payload = await client.createPaymentPayload(JSON.parse(input));
console.log(JSON.stringify(payload));
