// A worker thread of bench/load.mjs's `sign`: signs its share of a row's payments (indices start, start+stride, ...)
// with the official x402 v2 client, payment i from payer i % keys.length, and posts them back. Signing is CPU-bound
// (secp256k1 in JavaScript), so the row's payments are split over one worker per core.
import { parentPort, workerData } from "node:worker_threads";
import { x402Client } from "@x402/core/client";
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import { toClientEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { privateKeyToAccount } from "viem/accounts";

const { keys, header, network, token, n, start, stride } = workerData;
const clients = keys.map((k) => new x402Client()
  .register("eip155:*", new ExactEvmScheme(toClientEvmSigner(privateKeyToAccount(k))))
  .setSpendControls({ allowedAssets: [{ network, asset: token }] }));
const required = decodePaymentRequiredHeader(header);
const out = [];
for (let i = start; i < n; i += stride) out.push(encodePaymentSignatureHeader(await clients[i % clients.length].createPaymentPayload(required)));
parentPort.postMessage(out);
