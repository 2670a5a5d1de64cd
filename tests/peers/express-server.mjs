// A resource server built with the official x402 Express middleware (@x402/express), settling through the
// facilitator URL given (here: the gateway's built-in facilitator). Prints "listening <port>".
// Usage: node express-server.mjs <facilitatorUrl> <bearerKey> <network> <token> <payTo>
import express from "express";
import { paymentMiddleware } from "@x402/express";
import { x402ResourceServer, HTTPFacilitatorClient } from "@x402/core/server";
import { ExactEvmScheme } from "@x402/evm/exact/server";

const [facilitatorUrl, key, network, token, payTo] = process.argv.slice(2);
const auth = { Authorization: `Bearer ${key}` };
const facilitator = new HTTPFacilitatorClient({
  url: facilitatorUrl,
  createAuthHeaders: async () => ({ verify: auth, settle: auth, supported: auth }),
});
const server = new x402ResourceServer(facilitator).register(network, new ExactEvmScheme());
const app = express();
app.use(paymentMiddleware({
  "GET /weather": {
    accepts: { scheme: "exact", network, payTo, price: { amount: "10000", asset: token, extra: { name: "USD Coin", version: "2" } } },
    description: "Weather, settled by an external facilitator",
  },
}, server));
app.get("/weather", (_req, res) => res.json({ forecast: "sunny" }));
const listener = app.listen(0, "127.0.0.1", () => console.log(`listening ${listener.address().port}`));
