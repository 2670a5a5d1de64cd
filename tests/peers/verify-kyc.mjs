// Checks a KYC attestation as an outside x402 service would: viem's EIP-712 verifier against the published signer.
// Usage: node verify-kyc.mjs < {"signer","typedData":{domain,types,primaryType},"message","signature"}; prints true/false.
import { verifyTypedData } from "viem";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { signer, typedData, message, signature } = JSON.parse(input);
const valid = await verifyTypedData({
  address: signer,
  domain: typedData.domain,
  types: typedData.types,
  primaryType: typedData.primaryType,
  message: { ...message, issuedAt: BigInt(message.issuedAt), expiresAt: BigInt(message.expiresAt) },
  signature,
});
process.stdout.write(String(valid));
