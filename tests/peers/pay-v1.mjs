// Pays a URL with the official x402 v1 client (x402-fetch 1.x, X-PAYMENT). Prints {status, body, paymentResponse}.
// Usage: PAYER_KEY=0x.. node pay-v1.mjs <url>   (the chain must be known to v1 as base-sepolia)
import { wrapFetchWithPayment, createSigner, decodeXPaymentResponse } from "x402-fetch";

const [url, method = "GET"] = process.argv.slice(2);
const signer = await createSigner("base-sepolia", process.env.PAYER_KEY);
const requests = [];
const paidFetch = wrapFetchWithPayment(async (input, init) => {
  const res = await fetch(input, init);
  requests.push(res.status);
  return res;
}, signer);
const res = await paidFetch(url, { method });
const body = await res.text();
const header = res.headers.get("X-PAYMENT-RESPONSE");
console.log(JSON.stringify({ status: res.status, statuses: requests, body, paymentResponse: header ? decodeXPaymentResponse(header) : null }));
