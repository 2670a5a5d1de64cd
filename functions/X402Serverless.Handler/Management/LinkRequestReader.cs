using System.Text.Json;
using X402Serverless.Core.Links;
using X402Serverless.Handler.Requests;

namespace X402Serverless.Handler.Management;

/// <summary>
/// Reads a create/patch body into a <see cref="LinkDraft"/>, reporting wrong JSON types per field. A PATCH tells
/// "absent" (leave) from present; upstreamHeaders null or {} clears them.
/// </summary>
internal static class LinkRequestReader
{
    public static async Task<(LinkDraft? Draft, bool ClearHeaders, List<ValidationError> Errors)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var errors = new List<ValidationError>();
        if (await JsonBody.ReadObjectAsync(request, cancellationToken) is not { } root)
        {
            errors.Add(new("body", JsonBody.InvalidCode, "The body must be a well-formed JSON object."));
            return (null, false, errors);
        }
        var clearHeaders = false;
        IReadOnlyDictionary<string, string>? headers = null;
        if (root.TryGetProperty("upstreamHeaders", out var h))
        {
            if (h.ValueKind == JsonValueKind.Null)
            {
                clearHeaders = true;
            }
            else if (h.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new("upstreamHeaders", "invalid_type", "upstreamHeaders must be an object of header names to values."));
            }
            else
            {
                var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var p in h.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.String)
                    {
                        errors.Add(new("upstreamHeaders", "invalid_type", $"The value of '{p.Name}' must be a string."));
                        continue;
                    }
                    map[p.Name] = p.Value.GetString()!;
                }
                headers = map;
                clearHeaders = map.Count == 0;
            }
        }
        var draft = new LinkDraft
        {
            Upstream = String(root, "upstream", errors),
            Price = Price(root, errors),
            PayTo = String(root, "payTo", errors),
            Name = String(root, "name", errors),
            Description = String(root, "description", errors),
            Networks = StringList(root, "networks", errors),
            Settlement = String(root, "settlement", errors),
            DeferredPayers = String(root, "deferredPayers", errors),
            Facilitator = String(root, "facilitator", errors),
            VerifyOnChain = Bool(root, "verifyOnChain", errors),
            Accepts = StringList(root, "accepts", errors)?.Select(a => a.ToLowerInvariant()).ToList(),
            ChargeOn = String(root, "chargeOn", errors),
            DailyCapPerPayer = DailyCap(root, errors),
            KycLevel = String(root, "kycLevel", errors)?.ToLowerInvariant(),
            KycCountries = StringList(root, "kycCountries", errors)?.Select(c => c.ToUpperInvariant()).Distinct().ToList(),
            Methods = StringList(root, "methods", errors)?.Select(m => m.ToUpperInvariant()).ToList(),
            UpstreamHeaders = headers,
        };
        return (draft, clearHeaders, errors);
    }

    private static string? String(JsonElement root, string name, List<ValidationError> errors)
    {
        if (!root.TryGetProperty(name, out var el) || el.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (el.ValueKind != JsonValueKind.String)
        {
            errors.Add(new(name, "invalid_type", $"{name} must be a string."));
            return null;
        }
        return el.GetString();
    }

    private static bool? Bool(JsonElement root, string name, List<ValidationError> errors)
    {
        if (!root.TryGetProperty(name, out var el) || el.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (el.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            errors.Add(new(name, "invalid_type", $"{name} must be true or false."));
            return null;
        }
        return el.GetBoolean();
    }

    private static string? DailyCap(JsonElement root, List<ValidationError> errors) =>
        root.TryGetProperty("dailyCapPerPayer", out var el) && el.ValueKind == JsonValueKind.Number ? el.GetRawText() : String(root, "dailyCapPerPayer", errors);

    // A JSON number is taken by its exact text ("0.01"), never through a binary float.
    private static string? Price(JsonElement root, List<ValidationError> errors)
    {
        if (root.TryGetProperty("price", out var el) && el.ValueKind == JsonValueKind.Number)
        {
            return el.GetRawText();
        }
        return String(root, "price", errors);
    }

    private static List<string>? StringList(JsonElement root, string name, List<ValidationError> errors)
    {
        if (!root.TryGetProperty(name, out var el) || el.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (el.ValueKind != JsonValueKind.Array || el.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            errors.Add(new(name, "invalid_type", $"{name} must be an array of strings."));
            return null;
        }
        return el.EnumerateArray().Select(e => e.GetString()!).ToList();
    }
}
