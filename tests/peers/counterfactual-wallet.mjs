// A counterfactual contract wallet (EIP-6492): deploys a TestWalletFactory (contracts/TestWalletFactory.sol), works out
// the CREATE2 address of the TestSmartWallet it would deploy for <ownerAddress> and a random salt, and funds that
// address with the token, without deploying the wallet. Usage:
//   node counterfactual-wallet.mjs <rpcUrl> <deployerKey> <ownerAddress> <token> <atomic>
// Prints {"factory", "wallet", "salt", "createCalldata", "slowCalldata"}: the factory calls that deploy it (the second
// burns more gas than a deployment may take).
import fs from "node:fs";
import path from "node:path";
import { encodeFunctionData, getAddress, toHex } from "viem";
import { localChain, walletFor, artifact, here } from "./chain.mjs";

const [rpcUrl, deployerKey, owner, token, amount] = process.argv.slice(2);
const chain = await localChain(rpcUrl);
const { wallet } = walletFor(chain, rpcUrl, deployerKey);
const { abi, bytecode } = JSON.parse(fs.readFileSync(path.join(here, "build/TestWalletFactory.json"), "utf8"));
const deployed = await wallet.waitForTransactionReceipt({ hash: await wallet.deployContract({ abi, bytecode }) });
const factory = getAddress(deployed.contractAddress);
const salt = toHex(crypto.getRandomValues(new Uint8Array(32)));
const address = await wallet.readContract({ address: factory, abi, functionName: "walletAddress", args: [owner, salt] });
const funded = await wallet.writeContract({ address: token, abi: artifact().abi, functionName: "transfer", args: [address, BigInt(amount)] });
await wallet.waitForTransactionReceipt({ hash: funded });
console.log(JSON.stringify({
  factory,
  wallet: getAddress(address),
  salt,
  createCalldata: encodeFunctionData({ abi, functionName: "createWallet", args: [owner, salt] }),
  slowCalldata: encodeFunctionData({ abi, functionName: "createWalletSlowly", args: [owner, salt] }),
}));
