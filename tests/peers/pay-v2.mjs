// Pays a URL with the official x402 v2 client (@x402/fetch). Prints {status, body, paymentResponse}.
// Usage: PAYER_KEY=0x.. TOKEN=0x.. NETWORK=eip155:84532 [AUTHORIZATION='Bearer ..'] node pay-v2.mjs <url> [method]
import { privateKeyToAccount } from "viem/accounts";
import { x402Client, wrapFetchWithPayment, decodePaymentResponseHeader } from "@x402/fetch";
import { toClientEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/client";

const [url, method = "GET"] = process.argv.slice(2);
const { PAYER_KEY, TOKEN, NETWORK, AUTHORIZATION } = process.env;
const client = new x402Client()
  .register("eip155:*", new ExactEvmScheme(toClientEvmSigner(privateKeyToAccount(PAYER_KEY))))
  .setSpendControls({ allowedAssets: [{ network: NETWORK, asset: TOKEN }] });
const requests = [];
const paidFetch = wrapFetchWithPayment(async (input, init) => {
  const res = await fetch(input, init);
  requests.push(res.status);
  return res;
}, client);
// AUTHORIZATION: an extra header the resource needs besides the payment (e.g. a payer key for a top-up).
const res = await paidFetch(url, { method, headers: AUTHORIZATION ? { Authorization: AUTHORIZATION } : {} });
const body = await res.text();
const header = res.headers.get("PAYMENT-RESPONSE");
console.log(JSON.stringify({ status: res.status, statuses: requests, body, paymentResponse: header ? decodePaymentResponseHeader(header) : null }));
