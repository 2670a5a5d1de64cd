using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Core.Networks;
using static X402Serverless.Handler.Listings.CataloguePages;

namespace X402Serverless.Handler.Listings;

/// <summary>
/// /reference: the listed APIs' OpenAPI document (/openapi.json) as a readable HTML page, one section per API
/// (anchor ref-{id}, and ref-{id}-{method} per operation) with its methods, parameters, request and response schemas,
/// price and the payment requirements its 402 offers. It walks the very document /openapi.json serves, so the two
/// never disagree; like the catalogue it is script-free and HTML-encodes every value.
/// </summary>
internal sealed class ReferencePage(NetworkRegistry networks)
{
    // Schemas are HTML-encoded once written, so JSON escaping of <, > and & would only make them harder to read.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public string Render(CatalogueSnapshot snapshot, string linkBase, string baseUrl)
    {
        var document = OpenApiDocument.Build(snapshot, linkBase, baseUrl);
        var paths = document["paths"]!.AsObject();
        var html = new StringBuilder(8_192 + 4_096 * snapshot.Entries.Count);
        Open(html, "API reference");
        html.Append("<h1>API reference</h1>");
        html.Append("<p class=\"hint\" id=\"ref-count\">").Append(snapshot.Entries.Count).Append(snapshot.Entries.Count == 1 ? " API" : " APIs")
            .Append(", from the OpenAPI 3.1 document at <a href=\"/openapi.json\">/openapi.json</a>. Server: <code id=\"server\">")
            .Append(E(linkBase)).Append("</code>. Every call is paid: answer the 402 with an x402 payment (<code>PAYMENT-SIGNATURE</code>, v2, or <code>X-PAYMENT</code>, v1) or, where an API takes them, a payer key (<code>Authorization: Bearer x402pk_…</code>). A path after an API's id is passed on to it.</p>");
        if (snapshot.Entries.Count > 0)
        {
            html.Append("<nav class=\"toc\"><h2>APIs</h2><ul>");
            foreach (var entry in snapshot.Entries)
            {
                html.Append("<li><a href=\"#ref-").Append(E(entry.Id)).Append("\">").Append(E(entry.Name)).Append("</a></li>");
            }
            html.Append("</ul></nav>");
        }
        foreach (var entry in snapshot.Entries)
        {
            if (paths[$"/l/{entry.Id}"] is JsonObject item)
            {
                Api(html, entry, item, linkBase);
            }
        }
        Close(html);
        return html.ToString();
    }

    private void Api(StringBuilder html, CatalogueEntry entry, JsonObject item, string linkBase)
    {
        var id = E(entry.Id);
        var path = $"/l/{entry.Id}";
        html.Append("<section class=\"card ref\" id=\"ref-").Append(id).Append("\"><h2><a class=\"name\" href=\"/apis/").Append(id).Append("\">")
            .Append(E(entry.Name)).Append("</a></h2><p class=\"provider\">by ").Append(E(entry.Provider)).Append("</p>");
        if (entry.Link.Description is { } description)
        {
            html.Append("<p class=\"description\">").Append(E(description)).Append("</p>");
        }
        html.Append("<dl><dt>URL</dt><dd><code class=\"url\">").Append(E(linkBase + path)).Append("</code></dd>")
            .Append("<dt>Price</dt><dd class=\"price\">$").Append(E(entry.Link.Price.ToString())).Append(" per call</dd>")
            .Append("<dt>Pays with</dt><dd class=\"accepts\">").Append(E(string.Join(", ", entry.Link.Accepts))).Append("</dd></dl>");

        JsonObject? first = null;
        foreach (var (method, node) in item)
        {
            if (node is not JsonObject operation)
            {
                continue;
            }
            first ??= operation;
            Operation(html, entry.Id, path, method, operation);
        }
        if (first is not null)
        {
            PriceRules(html, first["x-x402-price-rules"] as JsonArray);
            Requirements(html, first["x-x402-accepts"] as JsonArray);
        }
        html.Append("</section>");
    }

    private static void Operation(StringBuilder html, string id, string path, string method, JsonObject operation)
    {
        var upper = method.ToUpperInvariant();
        html.Append("<div class=\"operation\" id=\"ref-").Append(E(id)).Append('-').Append(E(method)).Append("\"><h3><span class=\"method\">")
            .Append(E(upper)).Append("</span> <code>").Append(E(path)).Append("</code></h3>");
        if (operation["parameters"] is JsonArray { Count: > 0 } parameters)
        {
            html.Append("<h4>Query parameters</h4><table class=\"parameters\"><thead><tr><th>Name</th><th>Type</th><th>Required</th></tr></thead><tbody>");
            foreach (var parameter in parameters.OfType<JsonObject>())
            {
                html.Append("<tr><td><code>").Append(E(Text(parameter["name"]))).Append("</code></td><td>").Append(E(TypeOf(parameter["schema"])))
                    .Append("</td><td>").Append(parameter["required"] is JsonValue r && r.TryGetValue<bool>(out var required) && required ? "yes" : "no").Append("</td></tr>");
            }
            html.Append("</tbody></table>");
        }
        if (operation["requestBody"]?["content"]?["application/json"]?["schema"] is { } body)
        {
            html.Append("<h4>Request body (application/json)</h4><pre class=\"request-schema\">").Append(E(body.ToJsonString(Indented))).Append("</pre>");
        }
        var responses = operation["responses"] as JsonObject;
        html.Append("<h4>Responses</h4><dl class=\"responses\">");
        if (responses?["200"] is JsonObject ok)
        {
            html.Append("<dt>200</dt><dd>").Append(E(Text(ok["description"])));
            if (ok["content"]?["application/json"]?["schema"] is { } schema)
            {
                html.Append("<pre class=\"response-schema\">").Append(E(schema.ToJsonString(Indented))).Append("</pre>");
            }
            html.Append("</dd>");
        }
        if (responses?["402"] is JsonObject paymentRequired)
        {
            html.Append("<dt>402</dt><dd class=\"payment-required\">").Append(E(Text(paymentRequired["description"]))).Append("</dd>");
        }
        html.Append("</dl></div>");
    }

    private static void PriceRules(StringBuilder html, JsonArray? rules)
    {
        if (rules is not { Count: > 0 })
        {
            return;
        }
        html.Append("<h4>Prices by request</h4><table class=\"price-rules\"><thead><tr><th>Method</th><th>Path prefix</th><th>Price (USD)</th></tr></thead><tbody>");
        foreach (var rule in rules.OfType<JsonObject>())
        {
            html.Append("<tr><td>").Append(E(Text(rule["method"]) is { Length: > 0 } m ? m : "any")).Append("</td><td><code>")
                .Append(E(Text(rule["pathPrefix"]) is { Length: > 0 } p ? p : "/")).Append("</code></td><td>$").Append(E(Text(rule["price"]))).Append("</td></tr>");
        }
        html.Append("</tbody></table>");
    }

    private void Requirements(StringBuilder html, JsonArray? accepts)
    {
        if (accepts is not { Count: > 0 })
        {
            html.Append("<p class=\"hint requirements-none\">No x402 payment: this API takes prepaid balances only.</p>");
            return;
        }
        html.Append("<h4>x402 payment requirements (its 402 offers)</h4><table class=\"requirements\"><thead><tr><th>Scheme</th><th>Network</th>")
            .Append("<th>Amount (token units)</th><th>Asset</th><th>Pay to</th><th>Valid for</th></tr></thead><tbody>");
        foreach (var requirement in accepts.OfType<JsonObject>())
        {
            var network = Text(requirement["network"]);
            html.Append("<tr><td>").Append(E(Text(requirement["scheme"]))).Append("</td><td class=\"network\">")
                .Append(E(networks.TryGet(network, out var known) && known.V1Name is { } name ? $"{name} ({network})" : network))
                .Append("</td><td class=\"amount\">").Append(E(Text(requirement["amount"]))).Append("</td><td><code>").Append(E(Text(requirement["asset"])))
                .Append("</code></td><td><code class=\"pay-to\">").Append(E(Text(requirement["payTo"]))).Append("</code></td><td>")
                .Append(E(Text(requirement["maxTimeoutSeconds"]))).Append(" s</td></tr>");
        }
        html.Append("</tbody></table>");
    }

    private static string TypeOf(JsonNode? schema) => schema switch
    {
        JsonObject o when o["type"] is JsonValue t => Text(t),
        JsonObject o when o["type"] is JsonArray types => string.Join(" | ", types.Select(Text)),
        JsonObject o when o["enum"] is JsonArray => "enum",
        _ => "any",
    };

    private static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };
}
