// Verifies an outbound webhook with the official stripe package, as a receiver would.
// Usage: node webhook-verify.mjs <signature header> <tolerance seconds> <secret>...  < body
// Prints one JSON line per secret: {"ok":true,"id":"evt_…","type":"…"} or {"ok":false,"error":"…"}.
import Stripe from "stripe";

const [header, tolerance, ...secrets] = process.argv.slice(2);
let body = "";
for await (const chunk of process.stdin) body += chunk;
const stripe = new Stripe("sk_test_unused");
for (const secret of secrets) {
  try {
    const event = stripe.webhooks.constructEvent(body, header, secret, Number(tolerance));
    console.log(JSON.stringify({ ok: true, id: event.id, type: event.type }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: String(e.message) }));
  }
}
