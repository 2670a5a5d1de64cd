using System.Text.Json;
using Microsoft.Extensions.Primitives;

namespace X402Serverless.Handler.Idempotency;

/// <summary>The response headers kept with a recorded answer, as a JSON object of name → values.</summary>
internal static class RecordedHeaders
{
    // Well inside one Table Storage string property (64 KiB of UTF-16).
    private const int MaxChars = 16 * 1024;

    // Framing and per-response headers the server writes again itself.
    private static readonly HashSet<string> Skipped = new(StringComparer.OrdinalIgnoreCase)
    {
        "Content-Length", "Transfer-Encoding", "Date", "Server", "Connection", "Keep-Alive", "Retry-After",
    };

    // What a replay must carry even when an upstream's headers are too many to keep: the settlement, the content's
    // type and the sandbox that isolates upstream content on the gateway's origin.
    private static readonly string[] Essential =
    [
        "Content-Type", "Content-Encoding", "PAYMENT-RESPONSE", "X-PAYMENT-RESPONSE", "X-Payment-Id", "X-Payment-Settlement",
        "Access-Control-Expose-Headers", "Content-Security-Policy", "X-Content-Type-Options",
    ];

    public static string Write(IHeaderDictionary headers)
    {
        var kept = headers.Where(h => !Skipped.Contains(h.Key)).ToDictionary(h => h.Key, h => h.Value.ToArray(), StringComparer.OrdinalIgnoreCase);
        var json = JsonSerializer.Serialize(kept);
        if (json.Length <= MaxChars)
        {
            return json;
        }
        return JsonSerializer.Serialize(Essential.Where(kept.ContainsKey).ToDictionary(name => name, name => kept[name]));
    }

    public static void Apply(string json, IHeaderDictionary headers)
    {
        foreach (var (name, values) in JsonSerializer.Deserialize<Dictionary<string, string?[]>>(json) ?? [])
        {
            headers[name] = new StringValues(values);
        }
    }

    public static string? Find(string json, string name) =>
        (JsonSerializer.Deserialize<Dictionary<string, string?[]>>(json) ?? []).FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value is { Length: > 0 } v ? v[0] : null;
}
