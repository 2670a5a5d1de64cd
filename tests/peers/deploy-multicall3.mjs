// Puts Multicall3 at its canonical address (0xcA11bde05977b3631167028862bE2a173976CA11, where every public chain has it)
// on a local anvil: viem's copy of its creation code is deployed by an ordinary transaction, and the runtime code that
// leaves is set at the canonical address with anvil_setCode (Multicall3 keeps no state from its constructor).
// Usage: node deploy-multicall3.mjs <rpcUrl> <deployerKey>. Prints {"multicall3": "0x…"}. Also imported (placeMulticall3).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { localChain, walletFor, here } from "./chain.mjs";

export const MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11";

/** viem does not export its Multicall3 creation code from its entry point: read from the constant it ships. */
function creationCode() {
  const source = fs.readFileSync(path.join(here, "node_modules/viem/_esm/constants/contracts.js"), "utf8");
  const match = source.match(/multicall3Bytecode\s*=\s*'(0x[0-9a-f]+)'/i);
  if (!match) throw new Error("multicall3Bytecode not found in viem's constants");
  return match[1];
}

export async function placeMulticall3(rpcUrl, deployerKey) {
  const chain = await localChain(rpcUrl);
  const { wallet } = walletFor(chain, rpcUrl, deployerKey);
  const receipt = await wallet.waitForTransactionReceipt({ hash: await wallet.sendTransaction({ data: creationCode() }) });
  const code = await wallet.getCode({ address: receipt.contractAddress });
  await wallet.request({ method: "anvil_setCode", params: [MULTICALL3, code] });
  return MULTICALL3;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [rpcUrl, deployerKey] = process.argv.slice(2);
  console.log(JSON.stringify({ multicall3: await placeMulticall3(rpcUrl, deployerKey) }));
}
