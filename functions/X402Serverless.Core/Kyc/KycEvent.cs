using System.Globalization;
using System.Text.Json;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Kyc;

/// <summary>
/// A KYC provider's decision about one subject, as the callback carries it:
/// {"id","type","subject","status","level","country","wallets":[...],"reference","decidedAt"}.
/// </summary>
public sealed record KycEvent(string Id, string Type, KycRecord Record)
{
    public static bool TryParse(ReadOnlySpan<byte> json, out KycEvent? parsed, out string? error)
    {
        parsed = null;
        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            if (!Json.StrictJson.HasOnlyValidStrings(doc.RootElement))
            {
                error = "The body holds a string that is not valid Unicode.";
                return false;
            }
            return TryRead(doc.RootElement, out parsed, out error);
        }
        catch (JsonException)
        {
            error = "The body is not JSON.";
            return false;
        }
    }

    private static bool TryRead(JsonElement root, out KycEvent? parsed, out string? error)
    {
        parsed = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "The body must be a JSON object.";
            return false;
        }
        var id = Str(root, "id");
        var subject = Str(root, "subject");
        var status = Str(root, "status");
        var level = Str(root, "level") ?? KycLevels.None;
        var country = Str(root, "country");
        error = (id, subject, status) switch
        {
            ({ Length: 0 or > 200 } or null, _, _) => "id is required (at most 200 characters).",
            (_, { Length: 0 or > 200 } or null, _) => "subject is required: the reference the verification was started with.",
            _ when !KycStatuses.All.Contains(status ?? "") => $"status is one of: {string.Join(", ", KycStatuses.All)}.",
            _ when !KycLevels.IsValid(level) => $"level is one of: {string.Join(", ", KycLevels.All)}.",
            _ when country is not null && !(country.Length == 2 && country.All(char.IsAsciiLetter)) => "country is an ISO 3166-1 alpha-2 code.",
            _ => null,
        };
        if (error is not null)
        {
            return false;
        }
        if (!root.TryGetProperty("decidedAt", out var at) || at.ValueKind != JsonValueKind.String
            || !DateTimeOffset.TryParse(at.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var decidedAt))
        {
            error = "decidedAt is required: an ISO 8601 time.";
            return false;
        }
        var wallets = new List<string>();
        if (root.TryGetProperty("wallets", out var list) && list.ValueKind != JsonValueKind.Null)
        {
            if (list.ValueKind != JsonValueKind.Array)
            {
                error = "wallets is an array of 0x addresses.";
                return false;
            }
            foreach (var w in list.EnumerateArray())
            {
                if (w.ValueKind != JsonValueKind.String || !EvmAddress.TryParse(w.GetString(), out var address))
                {
                    error = "wallets is an array of 0x addresses.";
                    return false;
                }
                var lower = address.ToLowerHex();
                if (!wallets.Contains(lower))
                {
                    wallets.Add(lower);
                }
            }
        }
        parsed = new KycEvent(id!, Str(root, "type") ?? "verification.updated", new KycRecord
        {
            SubjectId = subject!,
            Status = status!,
            Level = status == KycStatuses.Verified ? level : KycLevels.None,
            Country = country?.ToUpperInvariant(),
            Reference = Str(root, "reference") ?? id!,
            Wallets = wallets,
            DecidedAt = decidedAt.ToUniversalTime(),
        });
        return true;
    }

    private static string? Str(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var el) && el.ValueKind == JsonValueKind.String ? el.GetString() : null;
}
