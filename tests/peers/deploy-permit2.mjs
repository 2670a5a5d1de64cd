// Puts the tests' Permit2 (contracts/TestPermit2.sol) and x402 exact Permit2 proxy (contracts/TestExactPermit2Proxy.sol)
// at the canonical addresses the official client signs for: deploys each, then copies its runtime code there with
// anvil_setCode (neither keeps state from its constructor). Usage: node deploy-permit2.mjs <rpcUrl> <deployerKey>.
// Prints {"permit2": "0x…", "proxy": "0x…"}.
import fs from "node:fs";
import path from "node:path";
import { localChain, walletFor, here } from "./chain.mjs";

const PERMIT2 = "0x000000000022D473030F116dDEE9F6B43aC78BA3";
const PROXY = "0x402085c248EeA27D92E8b30b2C58ed07f9E20001";
const [rpcUrl, deployerKey] = process.argv.slice(2);
const chain = await localChain(rpcUrl);
const { wallet } = walletFor(chain, rpcUrl, deployerKey);

async function place(name, at) {
  const { abi, bytecode } = JSON.parse(fs.readFileSync(path.join(here, `build/${name}.json`), "utf8"));
  const receipt = await wallet.waitForTransactionReceipt({ hash: await wallet.deployContract({ abi, bytecode, args: [] }) });
  const code = await wallet.getCode({ address: receipt.contractAddress });
  await wallet.request({ method: "anvil_setCode", params: [at, code] });
}
await place("TestPermit2", PERMIT2);
await place("TestExactPermit2Proxy", PROXY);
console.log(JSON.stringify({ permit2: PERMIT2, proxy: PROXY }));
