// POSTs a JSON body to a URL, paying with the official x402 v2 client (@x402/fetch). Prints {status, statuses, body, paymentResponse}.
// Usage: PAYER_KEY=0x.. TOKEN=0x.. NETWORK=eip155:84532 BODY='{"subject":..}' node pay-v2-post.mjs <url>
import { privateKeyToAccount } from "viem/accounts";
import { x402Client, wrapFetchWithPayment, decodePaymentResponseHeader } from "@x402/fetch";
import { toClientEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/client";

const [url] = process.argv.slice(2);
const { PAYER_KEY, TOKEN, NETWORK, BODY } = process.env;
const client = new x402Client()
  .register("eip155:*", new ExactEvmScheme(toClientEvmSigner(privateKeyToAccount(PAYER_KEY))))
  .setSpendControls({ allowedAssets: [{ network: NETWORK, asset: TOKEN }] });
const requests = [];
const paidFetch = wrapFetchWithPayment(async (input, init) => {
  const res = await fetch(input, init);
  requests.push(res.status);
  return res;
}, client);
const res = await paidFetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: BODY });
const body = await res.text();
const header = res.headers.get("PAYMENT-RESPONSE");
console.log(JSON.stringify({ status: res.status, statuses: requests, body, paymentResponse: header ? decodePaymentResponseHeader(header) : null }));
