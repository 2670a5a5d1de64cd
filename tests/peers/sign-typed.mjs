// Signs EIP-712 typed data as a wallet's eth_signTypedData_v4 would, with viem (an implementation independent of the
// gateway's). argv: the private key; stdin: the typed data JSON the page asked the wallet to sign. stdout: the signature.
import { privateKeyToAccount } from 'viem/accounts';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { domain, types, primaryType, message } = JSON.parse(input);
const { EIP712Domain, ...rest } = types;
// uint256 values arrive as decimal strings, as the wallet API carries them.
const fields = Object.fromEntries(rest[primaryType].map(f => [f.name, f.type]));
const typed = Object.fromEntries(Object.entries(message).map(([k, v]) => [k, fields[k]?.startsWith('uint') ? BigInt(v) : v]));
const signature = await privateKeyToAccount(process.argv[2]).signTypedData({ domain, types: rest, primaryType, message: typed });
process.stdout.write(signature);
