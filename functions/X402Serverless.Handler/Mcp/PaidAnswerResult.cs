using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using X402Serverless.Handler.Paywall;

namespace X402Serverless.Handler.Mcp;

/// <summary>
/// The paid path's HTTP answer as a tool result. The gateway's 402 becomes the x402 MCP transport's payment-required
/// result: its PaymentRequired (the PAYMENT-REQUIRED header, decoded: the exact object an HTTP client gets) as an
/// error result; anything else is {status, contentType, body | text | bodyBase64}, an error when the status is 400 or
/// more, with the settlement (PAYMENT-RESPONSE, decoded) in _meta["x402/payment-response"] whenever there is one.
/// </summary>
internal static class PaidAnswerResult
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static CallToolResult From(PaidAnswer answer)
    {
        var headers = answer.Headers;
        var settlement = Decoded(headers[PaymentHeaders.ResponseV2]) ?? Decoded(headers[PaymentHeaders.ResponseV1]);
        var meta = settlement is null ? null : new JsonObject { [CallTool.PaymentResponseMetaKey] = settlement.DeepClone() };
        // Only the gateway's own 402 carries PAYMENT-REQUIRED (an upstream's is dropped on the way out).
        if (answer.Status == StatusCodes.Status402PaymentRequired && Decoded(headers[PaymentHeaders.RequiredV2]) is { } required)
        {
            return ToolResults.Structured(required, isError: true, meta);
        }
        var contentType = headers.ContentType.ToString();
        var result = new JsonObject { ["status"] = answer.Status, ["contentType"] = contentType.Length == 0 ? null : contentType };
        Body(result, answer, contentType);
        if (answer.Truncated)
        {
            result["truncated"] = true;
            result["bodyBytes"] = answer.TotalBytes;
        }
        if (settlement is not null)
        {
            result["paymentResponse"] = settlement;
        }
        if (headers["X-Payment-Id"].ToString() is { Length: > 0 } paymentId)
        {
            result["paymentId"] = paymentId;
            result["settlement"] = headers["X-Payment-Settlement"].ToString() is { Length: > 0 } mode ? mode : "sync";
        }
        if (headers.RetryAfter.ToString() is { Length: > 0 } retryAfter)
        {
            result["retryAfter"] = retryAfter;
        }
        return ToolResults.Structured(result, isError: answer.Status >= 400, meta);
    }

    private static void Body(JsonObject result, PaidAnswer answer, string contentType)
    {
        if (answer.Body.Length == 0)
        {
            return;
        }
        if (!answer.Truncated && IsJson(contentType) && Parsed(answer.Body) is { } json)
        {
            result["body"] = json;
            return;
        }
        try
        {
            result["text"] = StrictUtf8.GetString(answer.Body);
        }
        catch (DecoderFallbackException) when (answer.Truncated)
        {
            // Cut inside a character: the text up to it.
            result["text"] = Encoding.UTF8.GetString(answer.Body).TrimEnd('\uFFFD');
        }
        catch (DecoderFallbackException)
        {
            result["bodyBase64"] = Convert.ToBase64String(answer.Body);
        }
    }

    private static bool IsJson(string contentType)
    {
        var media = contentType.Split(';')[0].Trim();
        return media.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.Equals("application/problem+json", StringComparison.OrdinalIgnoreCase)
            || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    private static JsonNode? Parsed(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A base64 JSON header (PAYMENT-REQUIRED, PAYMENT-RESPONSE) decoded; null when absent or not that.</summary>
    private static JsonNode? Decoded(Microsoft.Extensions.Primitives.StringValues header)
    {
        if (header.Count == 0 || string.IsNullOrEmpty(header[0]))
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(Convert.FromBase64String(header[0]!));
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }
}
