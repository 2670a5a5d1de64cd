// Builds EIP-4361 messages with viem's createSiweMessage and signs each with viem's personal_sign (signMessage).
// stdin: a JSON array of {privateKey, address?, domain, uri, chainId, nonce, issuedAt, expirationTime?, notBefore?,
// statement?, scheme?, requestId?, resources?}; address defaults to the key's own. stdout: [{message, signature, address}].
import { createSiweMessage } from 'viem/siwe';
import { privateKeyToAccount } from 'viem/accounts';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const spec of JSON.parse(input)) {
  const account = privateKeyToAccount(spec.privateKey);
  const message = createSiweMessage({
    address: spec.address ?? account.address,
    chainId: spec.chainId,
    domain: spec.domain,
    nonce: spec.nonce,
    uri: spec.uri,
    version: '1',
    statement: spec.statement,
    scheme: spec.scheme,
    requestId: spec.requestId,
    resources: spec.resources,
    issuedAt: new Date(spec.issuedAt),
    expirationTime: spec.expirationTime ? new Date(spec.expirationTime) : undefined,
    notBefore: spec.notBefore ? new Date(spec.notBefore) : undefined,
  });
  out.push({ message, signature: await account.signMessage({ message }), address: account.address });
}
process.stdout.write(JSON.stringify(out));
