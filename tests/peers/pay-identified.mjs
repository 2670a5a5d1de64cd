// The official x402 v2 client with the payment-identifier extension (@x402/extensions): signs one payment carrying ID,
// sends it twice (a retry of the same payment), then lets @x402/fetch pay again under the same ID (a new payment).
// Prints {declared, first, repeat, fresh}, each {status, body, paymentResponse}.
// Usage: PAYER_KEY=0x.. TOKEN=0x.. NETWORK=eip155:84532 ID=pay_... node pay-identified.mjs <url>
import { privateKeyToAccount } from "viem/accounts";
import { x402Client, x402HTTPClient, wrapFetchWithPayment, decodePaymentResponseHeader } from "@x402/fetch";
import { toClientEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { appendPaymentIdentifierToExtensions, isPaymentIdentifierRequired, PAYMENT_IDENTIFIER } from "@x402/extensions/payment-identifier";

const [url] = process.argv.slice(2);
const { PAYER_KEY, TOKEN, NETWORK, ID } = process.env;
const client = new x402Client()
  .register("eip155:*", new ExactEvmScheme(toClientEvmSigner(privateKeyToAccount(PAYER_KEY))))
  .setSpendControls({ allowedAssets: [{ network: NETWORK, asset: TOKEN }] });
// The documented way: add the id to the server's declaration before the payload is built.
client.onBeforePaymentCreation(async ({ paymentRequired }) => {
  if (paymentRequired.extensions) appendPaymentIdentifierToExtensions(paymentRequired.extensions, ID);
});
const http = new x402HTTPClient(client);

const read = async (res) => {
  const header = res.headers.get("PAYMENT-RESPONSE");
  return { status: res.status, body: await res.text(), paymentResponse: header ? decodePaymentResponseHeader(header) : null };
};

const challenge = await fetch(url);
const paymentRequired = http.getPaymentRequiredResponse((name) => challenge.headers.get(name), await challenge.json());
const declared = paymentRequired.extensions?.[PAYMENT_IDENTIFIER] ?? null;
const payload = await client.createPaymentPayload(paymentRequired);
const headers = http.encodePaymentSignatureHeader(payload);
const first = await read(await fetch(url, { headers }));
const repeat = await read(await fetch(url, { headers }));
const fresh = await read(await wrapFetchWithPayment(fetch, client)(url));
console.log(JSON.stringify({ declared, required: isPaymentIdentifierRequired(declared), first, repeat, fresh }));
