// Calls a URL as a wallet, with the official x402 sign-in-with-x client (@x402/extensions wrapFetchWithSIWx): the 402's
// sign-in-with-x challenge is signed (EIP-4361 text, viem personal_sign) and the request retried with SIGN-IN-WITH-X.
// Usage: PAYER_KEY=0x.. node siwx-call.mjs <url>
// Prints {status, statuses, body, proof, error, passCallsLeft}: proof is the SIGN-IN-WITH-X header sent, error the last 402's reason.
import { privateKeyToAccount } from "viem/accounts";
import { wrapFetchWithSIWx } from "@x402/extensions/sign-in-with-x";
import { decodePaymentRequiredHeader } from "@x402/core/http";

const [url] = process.argv.slice(2);
const account = privateKeyToAccount(process.env.PAYER_KEY);
const statuses = [];
let proof = null;
const siwxFetch = wrapFetchWithSIWx(async (input, init) => {
  const request = new Request(input, init);
  proof = request.headers.get("SIGN-IN-WITH-X") ?? proof;
  const response = await fetch(request);
  statuses.push(response.status);
  return response;
}, account);
const res = await siwxFetch(url);
const required = res.headers.get("PAYMENT-REQUIRED");
console.log(JSON.stringify({
  status: res.status,
  statuses,
  body: await res.text(),
  proof,
  error: required ? decodePaymentRequiredHeader(required).error ?? null : null,
  passCallsLeft: res.headers.get("X-Pass-Calls-Left"),
}));
