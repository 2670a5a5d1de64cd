using System.Text.Json.Nodes;

namespace X402Serverless.Handler.Audit;

/// <summary>
/// Secrets never reach the audit log: values of secret-looking properties (keys, secrets, tokens, passwords,
/// authorization) and every value of a headers object (upstream header values are credentials) become "[redacted]".
/// </summary>
internal static class AuditRedaction
{
    public const string Redacted = "[redacted]";

    /// <summary>Longer JSON is replaced by a marker: an entry must stay small (Table Storage holds 32K characters a property).</summary>
    public const int MaxJsonLength = 16_000;

    private static readonly string[] SecretWords = ["secret", "password", "token", "authorization", "cookie", "signature", "apikey", "privatekey"];

    public static string? Serialize(JsonNode? node)
    {
        if (node is null)
        {
            return null;
        }
        Redact(node);
        var json = node.ToJsonString();
        return json.Length <= MaxJsonLength ? json : new JsonObject { ["truncated"] = true, ["length"] = json.Length }.ToJsonString();
    }

    public static void Redact(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).ToList())
                {
                    var value = obj[name];
                    if (IsSecret(name) && value is not null)
                    {
                        obj[name] = Redacted;
                    }
                    else if (name.EndsWith("headers", StringComparison.OrdinalIgnoreCase) && value is JsonObject headers)
                    {
                        foreach (var header in headers.Select(p => p.Key).ToList())
                        {
                            headers[header] = Redacted;
                        }
                    }
                    else
                    {
                        Redact(value);
                    }
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Redact(item);
                }
                break;
        }
    }

    /// <summary>"key" alone is a secret (an issued key); "keyId" or "hasUpstreamHeaders" are not.</summary>
    private static bool IsSecret(string name) =>
        name.Equals("key", StringComparison.OrdinalIgnoreCase)
        || SecretWords.Any(w => name.Contains(w, StringComparison.OrdinalIgnoreCase));
}
