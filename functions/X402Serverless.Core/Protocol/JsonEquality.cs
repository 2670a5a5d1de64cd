using System.Text.Json;

namespace X402Serverless.Core.Protocol;

/// <summary>
/// Deep equality of JSON values as the x402 reference server compares an echoed "accepted" requirement:
/// key order ignored, numbers by value. Hex strings compare case-insensitively, since an address's
/// checksum casing carries no meaning.
/// </summary>
public static class JsonEquality
{
    public static bool DeepEquals(JsonElement a, JsonElement b)
    {
        if (a.ValueKind != b.ValueKind)
        {
            return false;
        }
        switch (a.ValueKind)
        {
            case JsonValueKind.Object:
                var countA = 0;
                foreach (var prop in a.EnumerateObject())
                {
                    countA++;
                    if (!b.TryGetProperty(prop.Name, out var other) || !DeepEquals(prop.Value, other))
                    {
                        return false;
                    }
                }
                return countA == b.EnumerateObject().Count();
            case JsonValueKind.Array:
                if (a.GetArrayLength() != b.GetArrayLength())
                {
                    return false;
                }
                using (var ea = a.EnumerateArray().GetEnumerator())
                using (var eb = b.EnumerateArray().GetEnumerator())
                {
                    while (ea.MoveNext() && eb.MoveNext())
                    {
                        if (!DeepEquals(ea.Current, eb.Current))
                        {
                            return false;
                        }
                    }
                }
                return true;
            case JsonValueKind.String:
                var sa = a.GetString()!;
                var sb = b.GetString()!;
                return sa.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                    ? string.Equals(sa, sb, StringComparison.OrdinalIgnoreCase)
                    : string.Equals(sa, sb, StringComparison.Ordinal);
            case JsonValueKind.Number:
                return a.TryGetDecimal(out var da) && b.TryGetDecimal(out var db) ? da == db : a.GetRawText() == b.GetRawText();
            default:
                return true; // true, false, null: equal kinds are equal values
        }
    }
}
