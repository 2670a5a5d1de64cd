// A payer burns one of its Permit2 nonces (invalidateUnorderedNonces), as a wallet cancelling a signed permit does.
// Usage: node permit2-invalidate.mjs <rpcUrl> <payerKey> <nonce (decimal)>. Prints {"tx": "0x…"}.
import { parseAbi } from "viem";
import { localChain, walletFor } from "./chain.mjs";

const [rpcUrl, payerKey, nonce] = process.argv.slice(2);
const chain = await localChain(rpcUrl);
const { wallet } = walletFor(chain, rpcUrl, payerKey);
const n = BigInt(nonce);
const hash = await wallet.writeContract({ address: "0x000000000022D473030F116dDEE9F6B43aC78BA3",
  abi: parseAbi(["function invalidateUnorderedNonces(uint256 wordPos, uint256 mask)"]),
  functionName: "invalidateUnorderedNonces", args: [n >> 8n, 1n << (n & 255n)] });
await wallet.waitForTransactionReceipt({ hash });
console.log(JSON.stringify({ tx: hash }));
