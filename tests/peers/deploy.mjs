// Deploys the EIP-3009 test token and mints to a payer. Prints {"token": "0x..."} on stdout.
// Usage: node deploy.mjs <rpcUrl> <deployerKey> <payerAddress> <mintAtomic>
import { getAddress } from "viem";
import { localChain, walletFor, artifact } from "./chain.mjs";

const [rpcUrl, deployerKey, payer, mint] = process.argv.slice(2);
const chain = await localChain(rpcUrl);
const { wallet } = walletFor(chain, rpcUrl, deployerKey);
const { abi, bytecode } = artifact();
const hash = await wallet.deployContract({ abi, bytecode, args: [] });
const receipt = await wallet.waitForTransactionReceipt({ hash });
const token = getAddress(receipt.contractAddress);
const mintHash = await wallet.writeContract({ address: token, abi, functionName: "mint", args: [payer, BigInt(mint)] });
await wallet.waitForTransactionReceipt({ hash: mintHash });
console.log(JSON.stringify({ token }));
