// The x402 reference stack for the benchmark: the official Express middleware (@x402/express) in front of the same
// upstream the gateway forwards to, settling through the facilitator given (the official one, on the same chain).
// One paid route per payTo, so each benchmark row's settlements can be counted on chain by its own recipient:
//   GET /r/<i>/quote  ->  upstream /quote, price <amount> atomic units paid to payTos[i]
// Usage: node reference-server.mjs <port> <facilitatorUrl> <network> <token> <amountAtomic> <upstreamUrl> <payTo,payTo,...>
// Prints "listening <port>" once ready.
import http from "node:http";
import express from "express";
import { paymentMiddleware } from "@x402/express";
import { x402ResourceServer, HTTPFacilitatorClient } from "@x402/core/server";
import { ExactEvmScheme } from "@x402/evm/exact/server";

const [port, facilitatorUrl, network, token, amount, upstreamUrl, payTos] = process.argv.slice(2);
const server = new x402ResourceServer(new HTTPFacilitatorClient({ url: facilitatorUrl })).register(network, new ExactEvmScheme());
const routes = {};
payTos.split(",").forEach((payTo, i) => {
  routes[`GET /r/${i}/quote`] = {
    accepts: { scheme: "exact", network, payTo, price: { amount, asset: token, extra: { name: "USD Coin", version: "2" } } },
    description: "Benchmark quote",
  };
});

// Forward to the upstream over a keep-alive pool, as a reverse proxy would.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const upstream = new URL(upstreamUrl);
const app = express();
app.disable("x-powered-by");
app.use(paymentMiddleware(routes, server));
app.get("/r/:i/quote", (_req, res) => {
  const request = http.get({ host: upstream.hostname, port: upstream.port, path: "/quote", agent }, (answer) => {
    const chunks = [];
    answer.on("data", (c) => chunks.push(c));
    answer.on("end", () => res.status(answer.statusCode).type(answer.headers["content-type"] ?? "application/json").send(Buffer.concat(chunks)));
  });
  request.on("error", (e) => res.status(502).json({ error: String(e.message) }));
});
const listener = app.listen(Number(port), "127.0.0.1", () => console.log(`listening ${listener.address().port}`));
