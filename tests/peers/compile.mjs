// Compiles contracts/*.sol (the EIP-3009 token, a contract wallet and its CREATE2 factory, a gas-burning signer, Permit2 and the x402
// exact Permit2 proxy written for the tests) and the product's EIP-6492
// probe (functions/X402Serverless.Core/Evm/Erc6492Probe.sol) with npm solc (no network) into build/<Name>.json.
// evmVersion "cancun": OpenZeppelin 5 uses MCOPY, which "paris" lacks.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const solc = require("solc");
const here = path.dirname(fileURLToPath(import.meta.url));

const contracts = {
  TestUSDC: "contracts/TestUSDC.sol",
  TestSmartWallet: "contracts/TestSmartWallet.sol",
  TestWalletFactory: "contracts/TestWalletFactory.sol",
  TestPermit2: "contracts/TestPermit2.sol",
  TestExactPermit2Proxy: "contracts/TestExactPermit2Proxy.sol",
  TestGasBurner: "contracts/TestGasBurner.sol",
  Erc6492Probe: "../../functions/X402Serverless.Core/Evm/Erc6492Probe.sol",
};
const input = {
  language: "Solidity",
  sources: Object.fromEntries(Object.entries(contracts).map(([n, file]) =>
    [`${n}.sol`, { content: fs.readFileSync(path.join(here, file), "utf8") }])),
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
const findImports = (p) => {
  try { return { contents: fs.readFileSync(require.resolve(p, { paths: [here] }), "utf8") }; }
  catch { return { error: `not found: ${p}` }; }
};
const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (out.errors ?? []).filter((e) => e.severity === "error");
if (errors.length) { for (const e of errors) console.error(e.formattedMessage); process.exit(1); }
fs.mkdirSync(path.join(here, "build"), { recursive: true });
for (const name of Object.keys(contracts)) {
  const c = out.contracts[`${name}.sol`][name];
  fs.writeFileSync(path.join(here, `build/${name}.json`), JSON.stringify({ abi: c.abi, bytecode: "0x" + c.evm.bytecode.object }));
  console.log(`compiled ${name}`);
}
