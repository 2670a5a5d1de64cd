// Deploys a contract wallet (contracts/TestSmartWallet.sol, EIP-1271) owned by an EOA, and funds it with the token
// from the deployer's own balance. Usage: node deploy-wallet.mjs <rpcUrl> <deployerKey> <ownerAddress> <token> <atomic>.
// Prints {"wallet": "0x..."}.
import fs from "node:fs";
import path from "node:path";
import { getAddress } from "viem";
import { localChain, walletFor, artifact, here } from "./chain.mjs";

const [rpcUrl, deployerKey, owner, token, amount] = process.argv.slice(2);
const chain = await localChain(rpcUrl);
const { wallet } = walletFor(chain, rpcUrl, deployerKey);
const { abi, bytecode } = JSON.parse(fs.readFileSync(path.join(here, "build/TestSmartWallet.json"), "utf8"));
const receipt = await wallet.waitForTransactionReceipt({ hash: await wallet.deployContract({ abi, bytecode, args: [owner] }) });
const address = getAddress(receipt.contractAddress);
const funded = await wallet.writeContract({ address: token, abi: artifact().abi, functionName: "transfer", args: [address, BigInt(amount)] });
await wallet.waitForTransactionReceipt({ hash: funded });
console.log(JSON.stringify({ wallet: address }));
