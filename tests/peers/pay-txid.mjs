// Pays by transaction hash (x402 TXID draft) with viem: an ordinary ERC-20 transfer, then the sending wallet's
// EIP-712 PaymentProof over the hash, the resource and the accepted requirement.
// stdin: a JSON array of steps, run in order:
//   {op: "transfer", rpcUrl, privateKey, token, to, value, gas?}          -> {txHash, status}
//   {op: "mint", rpcUrl, privateKey (the token's owner), token, to, value} -> {txHash, status}
//   {op: "send", rpcUrl, privateKey, to, value, gas?}                      -> {txHash, status}  (the native coin, in wei)
//   {op: "sign", privateKey, chainId, txRef, resource: {url, description, mimeType}, accepted: {...the 402's accepts entry}}
//                                                                         -> {from, signature, header}
// stdout: the results, in order. header is what goes in PAYMENT-SIGNATURE.
import { parseAbi } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { localChain, walletFor } from "./chain.mjs";

const erc20 = parseAbi(["function transfer(address to, uint256 value) returns (bool)", "function mint(address to, uint256 amount)"]);

let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const step of JSON.parse(input)) {
  if (step.op === "transfer" || step.op === "mint") {
    const chain = await localChain(step.rpcUrl);
    const { wallet } = walletFor(chain, step.rpcUrl, step.privateKey);
    const txHash = await wallet.writeContract({
      address: step.token, abi: erc20, functionName: step.op, args: [step.to, BigInt(step.value)],
      // An explicit gas limit skips estimation, so a transfer bound to revert is still sent and mined.
      ...(step.gas ? { gas: BigInt(step.gas) } : {}),
    });
    const receipt = await wallet.waitForTransactionReceipt({ hash: txHash });
    out.push({ txHash, status: receipt.status });
  } else if (step.op === "send") {
    const chain = await localChain(step.rpcUrl);
    const { wallet } = walletFor(chain, step.rpcUrl, step.privateKey);
    const txHash = await wallet.sendTransaction({ to: step.to, value: BigInt(step.value), ...(step.gas ? { gas: BigInt(step.gas) } : {}) });
    const receipt = await wallet.waitForTransactionReceipt({ hash: txHash });
    out.push({ txHash, status: receipt.status });
  } else if (step.op === "sign") {
    const account = privateKeyToAccount(step.privateKey);
    const accepted = step.accepted;
    const signature = await account.signTypedData({
      domain: { name: "x402 Payment Proof", version: "1", chainId: step.chainId },
      types: {
        PaymentProof: [
          { name: "txRef", type: "string" },
          { name: "from", type: "address" },
          { name: "resource", type: "Resource" },
          { name: "accepted", type: "Accepted" },
        ],
        Resource: [
          { name: "url", type: "string" },
          { name: "description", type: "string" },
          { name: "mimeType", type: "string" },
        ],
        Accepted: [
          { name: "scheme", type: "string" },
          { name: "network", type: "string" },
          { name: "amount", type: "string" },
          { name: "asset", type: "string" },
          { name: "payTo", type: "address" },
          { name: "maxTimeoutSeconds", type: "uint256" },
        ],
      },
      primaryType: "PaymentProof",
      message: { txRef: step.txRef, from: account.address, resource: step.resource, accepted },
    });
    const proof = {
      x402Version: 2,
      resource: step.resource,
      accepted,
      payload: { type: "txid", alg: "ES256K", format: "eip712", txRef: step.txRef, from: account.address, signature },
    };
    out.push({ from: account.address, signature, header: Buffer.from(JSON.stringify(proof)).toString("base64") });
  } else {
    throw new Error(`unknown op ${step.op}`);
  }
}
process.stdout.write(JSON.stringify(out));
