// Produces a Stripe-Signature header with the official stripe package. The payload comes on stdin.
// Usage: node stripe-sig.mjs <whsec_secret> <unixTimestamp>  < payload.json
import Stripe from "stripe";

const [secret, timestamp] = process.argv.slice(2);
let payload = "";
for await (const chunk of process.stdin) payload += chunk;
const stripe = new Stripe("sk_test_unused");
process.stdout.write(stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Number(timestamp) }));
