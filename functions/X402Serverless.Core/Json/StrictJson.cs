using System.Text.Json;

namespace X402Serverless.Core.Json;

/// <summary>
/// Parses JSON from outside (request bodies, payment headers, webhooks) so that every later read is safe.
/// System.Text.Json accepts "\ud800" (a lone UTF-16 surrogate) while parsing but throws InvalidOperationException
/// from GetString() and property names afterwards; this checks every string once, up front, and refuses the
/// document instead. Nesting is bounded too, so a hostile document costs linear work at most.
/// </summary>
public static class StrictJson
{
    /// <summary>Deeper than any document this gateway reads; deeper input is refused as malformed.</summary>
    public const int MaxDepth = 32;

    public static readonly JsonDocumentOptions Options = new() { MaxDepth = MaxDepth };

    /// <summary>The root of <paramref name="utf8"/> (detached from any pooled buffer), or false when it is not well-formed JSON.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> utf8, out JsonElement root)
    {
        try
        {
            using var doc = JsonDocument.Parse(utf8, Options);
            return Checked(doc, out root);
        }
        catch (JsonException)
        {
            root = default;
            return false;
        }
    }

    /// <inheritdoc cref="TryParse(ReadOnlyMemory{byte}, out JsonElement)"/>
    public static bool TryParse(string json, out JsonElement root)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, Options);
            return Checked(doc, out root);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            // ArgumentException: the string itself holds a lone surrogate and cannot be transcoded to UTF-8.
            root = default;
            return false;
        }
    }

    /// <summary>Reads a whole stream (a request body) as one document; false when it is not well-formed JSON.</summary>
    public static async Task<(bool Ok, JsonElement Root)> TryParseAsync(Stream utf8, CancellationToken cancellationToken)
    {
        try
        {
            using var doc = await JsonDocument.ParseAsync(utf8, Options, cancellationToken);
            return (Checked(doc, out var root), root);
        }
        catch (JsonException)
        {
            return (false, default);
        }
    }

    /// <summary>True when every string and property name in <paramref name="element"/> is valid Unicode.</summary>
    public static bool HasOnlyValidStrings(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return Readable(element);
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (!HasOnlyValidStrings(item))
                    {
                        return false;
                    }
                }
                return true;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (!ReadableName(property) || !HasOnlyValidStrings(property.Value))
                    {
                        return false;
                    }
                }
                return true;
            default:
                return true;
        }
    }

    private static bool Checked(JsonDocument doc, out JsonElement root)
    {
        if (!HasOnlyValidStrings(doc.RootElement))
        {
            root = default;
            return false;
        }
        root = doc.RootElement.Clone();
        return true;
    }

    // GetString() is the only API that reports an invalid string; its exception is the check, caught right here.
    private static bool Readable(JsonElement element)
    {
        try
        {
            _ = element.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static bool ReadableName(JsonProperty property)
    {
        try
        {
            _ = property.Name;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
