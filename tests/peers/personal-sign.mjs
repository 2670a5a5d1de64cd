// Signs a message as a wallet's personal_sign would (EIP-191), with viem: an implementation independent of the
// gateway's. argv: the private key; stdin: the message as the page asked the wallet to sign it (0x hex of its UTF-8
// bytes). stdout: the signature.
import { privateKeyToAccount } from 'viem/accounts';

let input = '';
for await (const chunk of process.stdin) input += chunk;
process.stdout.write(await privateKeyToAccount(process.argv[2]).signMessage({ message: { raw: input.trim() } }));
