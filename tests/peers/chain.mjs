// Shared viem helpers for the local anvil chain.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createPublicClient, createWalletClient, defineChain, http, publicActions } from "viem";
import { privateKeyToAccount } from "viem/accounts";

export const here = path.dirname(fileURLToPath(import.meta.url));

export async function localChain(rpcUrl) {
  const r = await fetch(rpcUrl, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }) });
  const id = Number((await r.json()).result);
  return defineChain({ id, name: `local-${id}`, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } } });
}

export function walletFor(chain, rpcUrl, key) {
  const account = privateKeyToAccount(key);
  return { account, wallet: createWalletClient({ account, chain, transport: http(rpcUrl) }).extend(publicActions),
    reader: createPublicClient({ chain, transport: http(rpcUrl) }) };
}

export const artifact = () => JSON.parse(fs.readFileSync(path.join(here, "build/TestUSDC.json"), "utf8"));
