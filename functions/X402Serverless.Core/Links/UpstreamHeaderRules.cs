namespace X402Serverless.Core.Links;

/// <summary>
/// The headers a provider may have the gateway add on the upstream hop (a link's secret upstreamHeaders), checked
/// on create and PATCH: a header that cannot travel in HTTP/1.1, or one the gateway owns, would otherwise make every
/// later paid call on the link fail or misbehave.
/// </summary>
public static class UpstreamHeaderRules
{
    public const string Code = "invalid_upstream_header";

    /// <summary>Names plus values, as sent; far above any credential, far below a server's header limit.</summary>
    public const int MaxTotalLength = 8 * 1024;

    public const int MaxCount = 32;

    // Hop-by-hop (RFC 9110 §7.6.1), framing, and the headers the gateway itself owns on the upstream hop.
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        "Proxy-Authenticate", "Proxy-Authorization", "Host", "Content-Length", "Expect",
        "Payment-Signature", "X-Payment", "Payment-Required", "Payment-Response", "X-Payment-Response", "KYC-Attestation",
        "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded",
    };

    public static List<ValidationError> Check(IReadOnlyDictionary<string, string> headers)
    {
        var errors = new List<ValidationError>();
        if (headers.Count > MaxCount)
        {
            errors.Add(Error($"At most {MaxCount} upstream headers."));
        }
        // Header names are case-insensitive: "X-Key" and "x-key" would send the secret twice.
        foreach (var twice in headers.Keys.Where(n => n is not null).GroupBy(n => n, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            errors.Add(Error($"'{Printable(twice.Key)}' is given more than once (names differ only in case)."));
        }
        foreach (var (name, value) in headers)
        {
            if (string.IsNullOrEmpty(name) || !name.All(IsTokenChar))
            {
                errors.Add(Error($"'{Printable(name)}' is not a header name (RFC 9110 token characters only)."));
            }
            else if (Reserved.Contains(name))
            {
                errors.Add(Error($"'{name}' is set by the gateway or by HTTP itself and cannot be an upstream header."));
            }
            else if (value is null || !IsFieldValue(value))
            {
                errors.Add(Error($"The value of '{name}' must be visible ASCII, with spaces or tabs only between characters."));
            }
        }
        if (headers.Sum(h => (h.Key?.Length ?? 0) + (h.Value?.Length ?? 0)) > MaxTotalLength)
        {
            errors.Add(Error($"Upstream header names and values total at most {MaxTotalLength} characters."));
        }
        return errors;
    }

    private static ValidationError Error(string message) => new("upstreamHeaders", Code, message);

    private static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);

    // RFC 9110 field-value limited to ASCII: visible characters, with SP/HTAB allowed only inside.
    private static bool IsFieldValue(string value) =>
        value.All(c => c is (>= '!' and <= '~') or ' ' or '\t')
        && (value.Length == 0 || (value[0] is not (' ' or '\t') && value[^1] is not (' ' or '\t')));

    private static string Printable(string? name) =>
        name is null ? "" : new string(name.Take(40).Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
}
