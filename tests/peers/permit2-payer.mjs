// Readies a Permit2 payer: the funder sends it tokens, then the payer approves Permit2 (what a wallet does once before
// its first Permit2 payment). Both need ETH for gas (the tests set it). approve: an atomic amount, "max" or "none".
// Usage: node permit2-payer.mjs <rpcUrl> <funderKey> <payerKey> <token> <fundAtomic> <approve>. Prints {"payer": "0x…"}.
import { maxUint256 } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { localChain, walletFor, artifact } from "./chain.mjs";

const [rpcUrl, funderKey, payerKey, token, fund, approve] = process.argv.slice(2);
const chain = await localChain(rpcUrl);
const { abi } = artifact();
const payer = privateKeyToAccount(payerKey).address;
if (BigInt(fund) > 0n) {
  const { wallet } = walletFor(chain, rpcUrl, funderKey);
  await wallet.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: token, abi, functionName: "transfer", args: [payer, BigInt(fund)] }) });
}
if (approve !== "none") {
  const { wallet } = walletFor(chain, rpcUrl, payerKey);
  const amount = approve === "max" ? maxUint256 : BigInt(approve);
  await wallet.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: token, abi, functionName: "approve",
    args: ["0x000000000022D473030F116dDEE9F6B43aC78BA3", amount] }) });
}
console.log(JSON.stringify({ payer }));
