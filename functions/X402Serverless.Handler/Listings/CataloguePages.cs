using System.Globalization;
using System.Net;
using System.Text;
using X402Serverless.Core.Links;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Usage;

namespace X402Serverless.Handler.Listings;

/// <summary>
/// The catalogue's HTML: the list at / and a page per API at /apis/{id}. Script-free, every value HTML-encoded,
/// only public fields of a link (never its upstream or headers).
/// </summary>
internal sealed class CataloguePages(NetworkRegistry networks)
{
    public string List(CatalogueSnapshot snapshot, CatalogueQuery query)
    {
        var matching = snapshot.Entries.Where(query.Matches).ToList();
        var pages = Math.Max(1, (matching.Count + CatalogueQuery.PageSize - 1) / CatalogueQuery.PageSize);
        var html = new StringBuilder(16_384);
        Open(html, "Paid APIs");
        html.Append("<h1>Paid APIs</h1>");
        html.Append("<form class=\"search\" method=\"get\" action=\"/\"><input type=\"search\" id=\"q\" name=\"q\" placeholder=\"Search APIs\" value=\"")
            .Append(E(query.Q)).Append("\">");
        Select(html, "category", "Any category", snapshot.Categories, query.Category);
        Select(html, "tag", "Any tag", snapshot.Tags, query.Tag);
        html.Append("<button type=\"submit\" id=\"search\">Search</button></form>");
        html.Append("<p class=\"hint\" id=\"count\">").Append(matching.Count).Append(matching.Count == 1 ? " API" : " APIs").Append("</p>");
        html.Append("<ul class=\"apis\">");
        foreach (var entry in matching.Skip((query.Page - 1) * CatalogueQuery.PageSize).Take(CatalogueQuery.PageSize))
        {
            var link = entry.Link;
            html.Append("<li class=\"api\" id=\"api-").Append(E(entry.Id)).Append("\"><h2><a class=\"name\" href=\"/apis/")
                .Append(E(entry.Id)).Append("\">").Append(E(entry.Name)).Append("</a>");
            DownBadge(html, entry);
            html.Append("</h2>");
            html.Append("<p class=\"provider\">by ").Append(E(entry.Provider));
            if (link.Listing.Category is { } category)
            {
                html.Append(" · <a href=\"").Append(E(new CatalogueQuery(null, null, category, 1).Url(1))).Append("\">").Append(E(category)).Append("</a>");
            }
            html.Append("</p>");
            if (link.Description is { } description)
            {
                html.Append("<p class=\"description\">").Append(E(description)).Append("</p>");
            }
            Facts(html, entry);
            Tags(html, link.Listing.Tags);
            html.Append("</li>");
        }
        html.Append("</ul>");
        if (pages > 1)
        {
            html.Append("<nav class=\"pages\">");
            if (query.Page > 1)
            {
                html.Append("<a rel=\"prev\" href=\"").Append(E(query.Url(query.Page - 1))).Append("\">Previous</a>");
            }
            html.Append("<span>Page ").Append(query.Page).Append(" of ").Append(pages).Append("</span>");
            if (query.Page < pages)
            {
                html.Append("<a rel=\"next\" href=\"").Append(E(query.Url(query.Page + 1))).Append("\">Next</a>");
            }
            html.Append("</nav>");
        }
        Close(html);
        return html.ToString();
    }

    public string Api(CatalogueEntry entry, string linkBase, string baseUrl)
    {
        var link = entry.Link;
        var url = $"{linkBase}/l/{link.Id}";
        var html = new StringBuilder(8_192);
        Open(html, entry.Name);
        html.Append("<section class=\"card\" id=\"api-").Append(E(entry.Id)).Append("\"><h1 class=\"name\">").Append(E(entry.Name)).Append("</h1>");
        DownBadge(html, entry);
        html.Append("<p class=\"provider\">by ").Append(E(entry.Provider)).Append("</p>");
        if (link.Description is { } description)
        {
            html.Append("<p class=\"description\">").Append(E(description)).Append("</p>");
        }
        Facts(html, entry);
        html.Append("<dl><dt>Paid URL</dt><dd><code class=\"url\">").Append(E(url)).Append("</code></dd>");
        html.Append("<dt>Methods</dt><dd class=\"methods\">").Append(link.Methods.Count == 0 ? "any" : E(string.Join(", ", link.Methods))).Append("</dd>");
        if (link.Listing.Category is { } category)
        {
            html.Append("<dt>Category</dt><dd class=\"category\">").Append(E(category)).Append("</dd>");
        }
        foreach (var rule in link.PriceRules)
        {
            html.Append("<dt>Price rule</dt><dd class=\"price-rule\">").Append(E(rule.Method ?? "any method")).Append(' ')
                .Append(E(rule.PathPrefix ?? "/")).Append(": $").Append(E(rule.Price.ToString())).Append("</dd>");
        }
        if (link.Pass is { } pass)
        {
            html.Append("<dt>Pass</dt><dd class=\"pass\">$").Append(E(pass.Price.ToString())).Append(" for ").Append(E(Passes.PassText.Bounds(pass)))
                .Append(" (<code>POST ").Append(E(baseUrl)).Append("/pass/").Append(E(link.Id)).Append("</code>)</dd>");
        }
        if (link.KycLevel != Core.Kyc.KycLevels.None)
        {
            html.Append("<dt>Identity</dt><dd>verified payers only (").Append(E(link.KycLevel)).Append(")</dd>");
        }
        html.Append("<dt>Updated</dt><dd>").Append(link.UpdatedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append("</dd></dl>");
        Tags(html, link.Listing.Tags);

        html.Append("<h3>How to pay</h3>");
        if (link.Accepts402)
        {
            html.Append("<p>With x402: the first call answers 402 with the accepted payments (the <code>PAYMENT-REQUIRED</code> header); an x402 client signs one and calls again.</p><pre id=\"pay-x402\">")
                .Append(E($"curl -i {url}\n\n" +
                    "// Node.js, with the official client: npm i @x402/fetch @x402/evm viem\n" +
                    "import { x402Client, wrapFetchWithPayment } from \"@x402/fetch\";\n" +
                    "import { ExactEvmScheme } from \"@x402/evm/exact/client\";\n" +
                    "import { toClientEvmSigner } from \"@x402/evm\";\n" +
                    "import { privateKeyToAccount } from \"viem/accounts\";\n" +
                    "const client = new x402Client().register(\"eip155:*\", new ExactEvmScheme(toClientEvmSigner(privateKeyToAccount(process.env.PAYER_KEY))));\n" +
                    $"const response = await wrapFetchWithPayment(fetch, client)(\"{url}\");"))
                .Append("</pre>");
        }
        if (link.Accepts.Any(a => a is PaymentTypes.Credits or PaymentTypes.Allowance))
        {
            html.Append("<p>With prepaid credits: a payer key from this gateway pays from its balance (top up at <code>")
                .Append(E(baseUrl)).Append("/api/me/topup</code>).</p><pre id=\"pay-credits\">")
                .Append(E($"curl -H \"Authorization: Bearer x402pk_...\" {url}")).Append("</pre>");
        }
        html.Append("<p>In a browser: <a id=\"paywall\" href=\"").Append(E(url)).Append("\">open the paywall</a>.</p>");
        html.Append("<p>Every method, parameter and payment requirement: <a id=\"reference\" href=\"/reference#ref-").Append(E(link.Id)).Append("\">API reference</a>.</p>");
        if (link.Listing.ExampleRequest is { } example)
        {
            html.Append("<h3>Example request</h3><pre id=\"example\">").Append(E(example)).Append("</pre>");
        }
        if (link.Listing.InputSchema is { } input)
        {
            html.Append("<h3>Input schema</h3><pre id=\"input-schema\">").Append(E(Pretty(input))).Append("</pre>");
        }
        if (link.Listing.OutputSchema is { } output)
        {
            html.Append("<h3>Output schema</h3><pre id=\"output-schema\">").Append(E(Pretty(output))).Append("</pre>");
        }
        html.Append("</section>");
        Close(html);
        return html.ToString();
    }

    public static string NotFound()
    {
        var html = new StringBuilder();
        Open(html, "Not found");
        html.Append("<h1>No such API</h1><p>It is not listed here (any more). <a href=\"/\">Back to the catalogue</a>.</p>");
        Close(html);
        return html.ToString();
    }

    private void Facts(StringBuilder html, CatalogueEntry entry)
    {
        var link = entry.Link;
        html.Append("<dl><dt>Price</dt><dd class=\"price\">$").Append(E(link.Price.ToString())).Append(" per call</dd>");
        html.Append("<dt>Networks</dt><dd class=\"networks\">")
            .Append(E(link.Accepts402 ? string.Join(", ", link.Networks.Select(NetworkName)) : "none (balances only)")).Append("</dd>");
        html.Append("<dt>Pays with</dt><dd class=\"accepts\">").Append(E(string.Join(", ", link.Accepts))).Append("</dd>");
        html.Append("<dt>Paid calls, 30 days</dt><dd class=\"calls\">").Append(entry.Calls.ToString(CultureInfo.InvariantCulture)).Append("</dd>");
        html.Append("<dt>Success, 30 days</dt><dd class=\"success\">")
            .Append(entry.SuccessRate is { } rate ? (rate * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%" : "no calls yet").Append("</dd>");
        html.Append("<dt>Median latency, 30 days</dt><dd class=\"latency\">")
            .Append(entry.Latency.P50 is { } p50 ? E(LatencySummary.Format(p50)) : "no calls yet").Append("</dd>");
        if (entry.Health is { } health)
        {
            html.Append("<dt>Health</dt><dd class=\"health ").Append(health.Up ? "up" : "down").Append("\">").Append(health.Up ? "up" : "down");
            if (!health.Up)
            {
                html.Append(" (").Append(E(health.Failure switch
                {
                    Core.Health.HealthFailures.Status => $"HTTP {health.Status}",
                    Core.Health.HealthFailures.Timeout => "no answer in time",
                    Core.Health.HealthFailures.AddressRefused => "address refused",
                    _ => "no connection",
                })).Append(health.ConsecutiveFailures > 1 ? $", {health.ConsecutiveFailures} probes in a row" : "").Append(')');
            }
            html.Append(", checked ").Append(E(health.CheckedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture))).Append(" UTC</dd>");
        }
        html.Append("</dl>");
    }

    // Only a probe that found it down: a link without a probe makes no claim either way.
    private static void DownBadge(StringBuilder html, CatalogueEntry entry)
    {
        if (entry.Down)
        {
            html.Append(" <span class=\"badge down\" title=\"Its health probe found it down\">down</span>");
        }
    }

    private string NetworkName(string id) =>
        networks.TryGet(id, out var network) && network.V1Name is { } name ? $"{name} ({id})" : id;

    private static void Tags(StringBuilder html, IReadOnlyList<string> tags)
    {
        if (tags.Count == 0)
        {
            return;
        }
        html.Append("<p class=\"tags\">");
        foreach (var tag in tags)
        {
            html.Append("<a href=\"/?tag=").Append(E(Uri.EscapeDataString(tag))).Append("\">#").Append(E(tag)).Append("</a>");
        }
        html.Append("</p>");
    }

    private static void Select(StringBuilder html, string name, string any, IReadOnlyList<string> values, string? selected)
    {
        html.Append("<select name=\"").Append(name).Append("\" id=\"").Append(name).Append("\"><option value=\"\">").Append(any).Append("</option>");
        foreach (var value in values)
        {
            html.Append("<option").Append(string.Equals(value, selected, StringComparison.OrdinalIgnoreCase) ? " selected" : "")
                .Append('>').Append(E(value)).Append("</option>");
        }
        html.Append("</select>");
    }

    internal static void Open(StringBuilder html, string title) =>
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>")
            .Append(E(title)).Append("</title><link rel=\"stylesheet\" href=\"").Append(CatalogueStyles.Path)
            .Append("\"></head><body><header><span class=\"brand\">X402Serverless</span><nav><a href=\"/\">Catalogue</a>")
            .Append("<a href=\"/discovery/resources\">Discovery (x402 Bazaar)</a><a href=\"/reference\">API reference</a><a href=\"/openapi.json\">OpenAPI</a><a href=\"/console\">Provider console</a></nav></header><main>");

    internal static void Close(StringBuilder html) => html.Append("</main></body></html>");

    internal static string Pretty(string json)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Indented = true }))
        {
            document.RootElement.WriteTo(writer);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    internal static string E(string? value) => WebUtility.HtmlEncode(value ?? "");
}
