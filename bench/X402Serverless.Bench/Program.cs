// In-process micro-benchmark of the gateway's hot paths (no chain: settlement is off), for quick before/after checks
// while working on them. It runs in one process with its load generator; the benchmark to quote is bench/run.sh
// (out of process, beside nginx and the x402 reference stack, settling on a local chain). Usage:
//   dotnet run -c Release --project bench/X402Serverless.Bench [requests=20000] [concurrency=32]
//   dotnet run -c Release --project bench/X402Serverless.Bench -- micro [iterations=2000] [upstream URL]
//     (per-payment CPU work; with an upstream in another process, the forwarding hop too)
//   dotnet X402Serverless.Bench.dll kestrel <upstream URL> <PAYMENT-REQUIRED header> <402 body file>
//     (Kestrel with none of the gateway: bench/run.sh's "Kestrel alone" rows)
//   dotnet X402Serverless.Bench.dll seed-payments <x402.db> <organisation> <link> <payTo> <from> <count>
//     (bulk x402 payments and their usage counters, for bench/run.sh's dashboard rows)
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using X402Serverless.Bench;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;

if (args is ["micro", ..])
{
    var iterations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2_000;
    SignatureMicro.Run(iterations);
    if (args.Length > 2)
    {
        await ForwardMicro.RunAsync(iterations, args[2]);
    }
    return;
}

if (args is ["kestrel", var aloneUpstream, var aloneHeader, var aloneBody])
{
    await KestrelAlone.RunAsync(aloneUpstream, aloneHeader, aloneBody);
    return;
}

if (args is ["seed-payments", var seedDb, var seedOrg, var seedLink, var seedPayTo, var seedFrom, var seedCount])
{
    DashboardSeed.Run(seedDb, seedOrg, seedLink, seedPayTo, int.Parse(seedFrom, CultureInfo.InvariantCulture), int.Parse(seedCount, CultureInfo.InvariantCulture));
    return;
}

var requests = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
var concurrency = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 32;
const string AdminKey = "x402sk_benchmark_admin_key_000000000000";
const string Token = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

Console.WriteLine("starting upstream and gateway...");
// The upstream: a small JSON answer, as a typical paid API returns.
var upstreamBuilder = WebApplication.CreateSlimBuilder();
upstreamBuilder.Logging.ClearProviders();
upstreamBuilder.WebHost.UseUrls("http://127.0.0.1:0");
var upstream = upstreamBuilder.Build();
upstream.MapGet("/quote", () => Results.Json(new { symbol = "ABC", price = "12.34" }));
await upstream.StartAsync();
var upstreamUrl = Address(upstream);

var data = Path.Combine(Path.GetTempPath(), "x402-bench-" + Guid.NewGuid().ToString("N"));
var gateway = GatewayApp.Build([], builder =>
{
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["X402:DataDirectory"] = data,
        ["X402_ADMIN_KEY"] = AdminKey,
        ["X402:AllowedUpstreamRanges:0"] = "127.0.0.0/8",
        ["X402:DefaultNetworks:0"] = "eip155:84532",
        ["X402:Networks:0:ChainId"] = "84532",
        ["X402:Networks:0:Asset"] = Token,
        ["X402:Networks:0:TokenName"] = "USD Coin",
        ["X402:Networks:0:RpcUrl"] = "http://127.0.0.1:9",
        // Deferred links answer before settlement; with the worker off, the benchmark measures the response path only.
        ["X402:Settlement:GasWalletKey"] = Hex.Encode(RandomNumberGenerator.GetBytes(32)),
        ["X402:Settlement:RunWorker"] = "false",
        // One wallet pays every call and nothing settles while measuring: lift the per-wallet bound on unsettled
        // deferred calls so the row keeps measuring the content-first path (the link also serves new wallets).
        ["X402:Settlement:DeferredMaxInFlightPerPayer"] = "0", // no bound
    });
    builder.WebHost.UseUrls("http://127.0.0.1:0");
    builder.Logging.ClearProviders();
});
await GatewayApp.StartAsync(gateway);
var gatewayUrl = Address(gateway);
Console.WriteLine($"gateway on {gatewayUrl}, upstream on {upstreamUrl}");

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency * 2 });
using var admin = new HttpClient { BaseAddress = new Uri(gatewayUrl) };
admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);

var payTo = Secp256k1.AddressOf(RandomNumberGenerator.GetBytes(32)).ToString();
var creditsLink = await CreateLinkAsync(new { upstream = upstreamUrl + "/quote", price = "0.001", payTo, accepts = new[] { "credits" } });
var x402Link = await CreateLinkAsync(new { upstream = upstreamUrl + "/quote", price = "0.001", payTo, settlement = "deferred", deferredPayers = "any", facilitator = "builtin" });
var payer = await (await admin.PostAsJsonAsync("/api/payers", new { name = "bench" })).Content.ReadFromJsonAsync<JsonElement>();
var payerKey = payer.GetProperty("key").GetString()!;
await gateway.Services.GetRequiredService<ILedger>().PostAsync(
    LedgerEntry.Transfer("bench-fund", "topup", Accounts.CardClearing, Accounts.Credits(payer.GetProperty("payer").GetProperty("id").GetString()!), Usd.FromMicros(1_000_000_000_000)), [], default);

// The warm-up pays too: every request, warm-up or measured, carries a payment never used before.
var warmUp = Math.Min(2_000, requests);
Console.WriteLine($"signing {warmUp + requests} distinct x402 payments (not timed)...");
var headers = SignPayments(x402Link, warmUp + requests);

using var nginx = Nginx.TryStart(upstreamUrl["http://".Length..], FreePort());
var results = new List<LoadRunner.Result>();
async Task Run(string name, Func<int, Task<int>> send)
{
    await LoadRunner.RunAsync(name, warmUp, concurrency, send); // warm-up
    results.Add(await LoadRunner.RunAsync(name, requests, concurrency, send));
}

await Run("direct upstream (reference)", _ => GetAsync(upstreamUrl + "/quote", null, null));
if (nginx is not null)
{
    await Run("nginx proxy -> upstream (reference)", _ => GetAsync(nginx.Url + "/quote", null, null));
}
else
{
    Console.WriteLine("nginx is not installed: its row is left out (bench/run.sh installs it)");
}
await Run("gateway: unpaid -> 402", _ => GetAsync(x402Link, null, null));
await Run("gateway: credits-paid call", _ => GetAsync(creditsLink, "Bearer " + payerKey, null));
var nextPayment = -1;
await Run("gateway: x402 v2 paid call (deferred)", _ => GetAsync(x402Link, null, headers[Interlocked.Increment(ref nextPayment)]));

// The public catalogue and Bazaar discovery with 1,000 listed links (issue 13 asks for under 20 ms p50).
var store = gateway.Services.GetRequiredService<ILinkStore>();
var linkId = x402Link[(x402Link.LastIndexOf('/') + 1)..];
await ListedLinks.SeedAsync(store, (await store.FindAsync(linkId, default))!.OrganisationId, payTo, 1_000);
await Run("catalogue page / (1,000 listed)", _ => GetAsync(gatewayUrl + "/", null, null, "text/html"));
await Run("discovery ?limit=100 (1,000 listed)", _ => GetAsync(gatewayUrl + "/discovery/resources?limit=100&offset=400", null, null));

Console.WriteLine();
Console.WriteLine($"{"scenario",-44} {"requests",8} {"errors",6} {"req/s",10} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8}");
foreach (var r in results)
{
    Console.WriteLine(r);
}
Console.WriteLine($"(concurrency {concurrency}, {Environment.ProcessorCount} cores, load generator in the same process; the x402 run " +
    "uses a fresh payment per request, warm-up included)");

await gateway.StopAsync();
await upstream.StopAsync();
Directory.Delete(data, recursive: true);

async Task<int> GetAsync(string url, string? authorization, string? payment, string? accept = null)
{
    using var request = new HttpRequestMessage(HttpMethod.Get, url);
    if (accept is not null)
    {
        request.Headers.TryAddWithoutValidation("Accept", accept);
    }
    if (authorization is not null)
    {
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
    }
    if (payment is not null)
    {
        request.Headers.TryAddWithoutValidation("PAYMENT-SIGNATURE", payment);
    }
    using var response = await http.SendAsync(request);
    await response.Content.CopyToAsync(Stream.Null);
    return (int)response.StatusCode;
}

async Task<string> CreateLinkAsync(object body)
{
    using var response = await admin.PostAsJsonAsync("/api/links", body);
    var json = await response.Content.ReadFromJsonAsync<JsonElement>();
    return json.GetProperty("url").GetString()!;
}

string[] SignPayments(string url, int count)
{
    using var probe = http.GetAsync(url).GetAwaiter().GetResult();
    var required = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(probe.Headers.GetValues("PAYMENT-REQUIRED").Single())))!;
    var accepted = required["accepts"]![0]!.AsObject();
    var key = RandomNumberGenerator.GetBytes(32);
    var domain = new Eip712Domain("USD Coin", "2", 84532, EvmAddress.Parse(Token));
    var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    // The gateway refuses authorizations valid for longer than the link's maxTimeoutSeconds.
    var maxTimeout = (long)accepted["maxTimeoutSeconds"]!;
    var result = new string[count];
    Parallel.For(0, count, i =>
    {
        var auth = new TransferAuthorization(Secp256k1.AddressOf(key), EvmAddress.Parse((string)accepted["payTo"]!), new BigInteger(1_000),
            now - 600, now + maxTimeout, RandomNumberGenerator.GetBytes(32));
        var signature = TransferAuthorizationHasher.Sign(domain, auth, key);
        var payload = new JsonObject
        {
            ["x402Version"] = 2,
            ["accepted"] = accepted.DeepClone(),
            ["payload"] = new JsonObject
            {
                ["signature"] = Hex.Encode(signature),
                ["authorization"] = new JsonObject
                {
                    ["from"] = auth.From.ToString(), ["to"] = auth.To.ToString(), ["value"] = "1000",
                    ["validAfter"] = auth.ValidAfter.ToString(CultureInfo.InvariantCulture), ["validBefore"] = auth.ValidBefore.ToString(CultureInfo.InvariantCulture),
                    ["nonce"] = Hex.Encode(auth.Nonce),
                },
            },
        };
        result[i] = Convert.ToBase64String(Encoding.UTF8.GetBytes(payload.ToJsonString()));
    });
    return result;
}

static string Address(WebApplication app) =>
    app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

static int FreePort()
{
    using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
    listener.Start();
    return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
}
