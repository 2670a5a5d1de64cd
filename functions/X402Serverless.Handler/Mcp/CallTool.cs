using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Paywall;

namespace X402Serverless.Handler.Mcp;

/// <summary>
/// call: one request to a listed API through its paid link, paid with x402 following the x402 MCP transport
/// (specs/transports-v2/mcp.md of the x402 reference): unpaid, the result is the link's PaymentRequired (isError,
/// structuredContent and content[0].text); paid with a PaymentPayload in _meta["x402/payment"] (or the base64
/// PAYMENT-SIGNATURE value in the 'payment' argument), it is the upstream's answer with the SettlementResponse in
/// _meta["x402/payment-response"]. The request runs through the paid link's own endpoint (<see cref="PaidLinkInvoker"/>).
/// </summary>
internal sealed class CallTool() : CatalogueTool("call", "Call a paid API",
    "Call a listed API through its paid link. Without a payment the result is an error carrying the x402 PaymentRequired "
    + "of this exact request (structuredContent: x402Version, accepts, resource); sign one of its accepts with an x402 client "
    + "and call again with the PaymentPayload in _meta[\"x402/payment\"], or its base64 form (the HTTP PAYMENT-SIGNATURE value) "
    + "in 'payment'. A paid result is the upstream's answer {status, contentType, body | text | bodyBase64} with the settlement "
    + "in _meta[\"x402/payment-response\"]. A payment is used once; nothing is charged when the upstream fails.",
    """
    {"type":"object","additionalProperties":false,"required":["id"],"properties":{
      "id":{"type":"string","maxLength":64,"description":"The API's id (lnk_…)."},
      "method":{"type":"string","enum":["GET","POST","PUT","PATCH","DELETE"],"description":"Default GET, or POST when a body is given."},
      "path":{"type":"string","maxLength":2048,"description":"Path under the API's URL, e.g. \"/today\"; may end with a query string."},
      "query":{"type":"object","description":"Query parameters: strings, numbers or booleans (or lists of them).",
        "additionalProperties":{"anyOf":[{"type":["string","number","boolean"]},{"type":"array","items":{"type":["string","number","boolean"]}}]}},
      "body":{"description":"A JSON body, sent as application/json (POST, PUT, PATCH, DELETE)."},
      "payment":{"type":"string","maxLength":32768,"description":"Optional: the base64 PAYMENT-SIGNATURE value (x402 v2). Prefer _meta[\"x402/payment\"]."}}}
    """, readOnly: false)
{
    /// <summary>The x402 MCP transport's metadata keys.</summary>
    public const string PaymentMetaKey = "x402/payment";
    public const string PaymentResponseMetaKey = "x402/payment-response";

    private const int MaxPaymentBytes = 32 * 1024;
    private static readonly string[] Known = ["id", "method", "path", "query", "body", "payment"];
    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    protected override async ValueTask<CallToolResult> RunAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var arguments = ToolArguments.Read(call.Params.Arguments, Known);
        var id = arguments.String("id", 64, required: true);
        var body = arguments.Any("body");
        var method = Method(arguments, body);
        var (path, pathQuery) = PathUnderLink(arguments);
        var query = Query(arguments);
        var (header, value) = Payment(arguments, call.Params.Meta);
        var maxBody = call.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.MaxForwardedBodyBytes;
        var json = body is { } b ? Encoding.UTF8.GetBytes(b.GetRawText()) : null;
        if (json is { Length: var length } && length > maxBody)
        {
            arguments.Add("body", "payload_too_large", $"The body is at most {maxBody} bytes.");
        }
        if (arguments.Errors.Count > 0)
        {
            return ToolResults.Invalid(arguments.Errors);
        }
        // Only listed links are visible here: an unlisted id is not found, as in the catalogue.
        var snapshot = await call.Catalogue.GetAsync(cancellationToken);
        if (!snapshot.ById.ContainsKey(id!))
        {
            return ToolResults.NotFound(id!);
        }
        var invoker = call.Services.GetRequiredService<PaidLinkInvoker>();
        var answer = await invoker.InvokeAsync(call.Http, new PaidRequest(id!, method, path, pathQuery.Add(query), json, header, value));
        return PaidAnswerResult.From(answer);
    }

    private static string Method(ToolArguments arguments, JsonElement? body)
    {
        var method = arguments.String("method", 16)?.ToUpperInvariant();
        if (method is null)
        {
            return body is null ? "GET" : "POST";
        }
        if (!Methods.Contains(method))
        {
            arguments.Add("method", "invalid_method", $"'method' is one of {string.Join(", ", Methods)}.");
            return "GET";
        }
        if (body is not null && method == "GET")
        {
            arguments.Add("body", "body_not_allowed", "A GET carries no body: use POST, PUT or PATCH, or put the values in 'query'.");
        }
        return method;
    }

    /// <summary>The path under the link (a leading '/' added), and any query string written after it.</summary>
    private static (PathString Path, QueryString Query) PathUnderLink(ToolArguments arguments)
    {
        var text = arguments.String("path", 2048);
        if (text is null)
        {
            return (PathString.Empty, QueryString.Empty);
        }
        if (text.Any(c => char.IsWhiteSpace(c) || c == '#'))
        {
            arguments.Add("path", "invalid_path", "'path' must not contain spaces or '#': percent-encode them (%20).");
            return (PathString.Empty, QueryString.Empty);
        }
        var mark = text.IndexOf('?', StringComparison.Ordinal);
        var (pathPart, queryPart) = mark < 0 ? (text, "") : (text[..mark], text[(mark + 1)..]);
        if (!pathPart.StartsWith('/'))
        {
            pathPart = "/" + pathPart;
        }
        // Decoded as the server decodes a request line, so the paid path sees what it would over HTTP.
        return (pathPart == "/" ? PathString.Empty : PathString.FromUriComponent(pathPart),
            queryPart.Length == 0 ? QueryString.Empty : QueryString.FromUriComponent("?" + queryPart));
    }

    private static QueryString Query(ToolArguments arguments)
    {
        if (arguments.Any("query") is not { } query)
        {
            return QueryString.Empty;
        }
        if (query.ValueKind != JsonValueKind.Object)
        {
            arguments.Add("query", ToolArguments.InvalidTypeCode, "'query' must be an object of parameter names to values.");
            return QueryString.Empty;
        }
        var pairs = new List<KeyValuePair<string, string?>>();
        foreach (var parameter in query.EnumerateObject())
        {
            var values = parameter.Value.ValueKind == JsonValueKind.Array ? parameter.Value.EnumerateArray().ToList() : [parameter.Value];
            foreach (var value in values)
            {
                if (Scalar(value) is { } text)
                {
                    pairs.Add(new(parameter.Name, text));
                }
                else
                {
                    arguments.Add($"query.{parameter.Name}", ToolArguments.InvalidTypeCode, $"'query.{parameter.Name}' must be a string, number or boolean (or a list of them).");
                }
            }
        }
        return QueryString.Create(pairs);
    }

    private static string? Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    /// <summary>The payment as the paid path reads it: the header name for its protocol version and its base64 value.</summary>
    private static (string? Header, string? Value) Payment(ToolArguments arguments, JsonObject? meta)
    {
        var argument = arguments.String("payment", MaxPaymentBytes);
        var payload = meta?[PaymentMetaKey];
        if (payload is null)
        {
            return argument is null ? (null, null) : (PaymentHeaders.SignatureV2, argument);
        }
        if (argument is not null)
        {
            arguments.Add("payment", "payment_given_twice", $"Send the payment once: in _meta[\"{PaymentMetaKey}\"] or in 'payment', not both.");
            return (null, null);
        }
        if (payload is not JsonObject payloadObject)
        {
            arguments.Add($"_meta.{PaymentMetaKey}", ToolArguments.InvalidTypeCode, $"_meta[\"{PaymentMetaKey}\"] must be an x402 PaymentPayload object.");
            return (null, null);
        }
        var encoded = Encoding.UTF8.GetBytes(payloadObject.ToJsonString());
        if (encoded.Length > MaxPaymentBytes)
        {
            arguments.Add($"_meta.{PaymentMetaKey}", "payment_too_large", $"The PaymentPayload is at most {MaxPaymentBytes} bytes.");
            return (null, null);
        }
        var v1 = payloadObject["x402Version"] is JsonValue version && version.TryGetValue(out int number) && number == 1;
        return (v1 ? PaymentHeaders.PaymentV1 : PaymentHeaders.SignatureV2, Convert.ToBase64String(encoded));
    }
}
