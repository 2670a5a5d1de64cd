using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Signup;

/// <summary>
/// Parses an EIP-4361 message exactly as the EIP's ABNF lays it out: lines separated by LF only, the fields in their
/// order, each at most once, nothing after the last. Hand-written (no maintained .NET SIWE parser exists; see
/// docs/dependencies.md) and strict on purpose: what the wallet showed the user is what is checked, so any text that
/// two parsers might read differently is refused rather than guessed at.
/// </summary>
public static partial class SiweParser
{
    /// <summary>Longest message taken, in UTF-8 bytes: a real one is a few hundred; anything near this is not a sign-in.</summary>
    public const int MaxBytes = 4096;

    public const string Preamble = " wants you to sign in with your Ethereum account:";
    private const int MaxResources = 16;

    /// <summary>The message, or the reason it is not one (naming the line at fault).</summary>
    public static (SiweMessage? Message, string? Error) Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return (null, "The message is empty.");
        }
        if (Encoding.UTF8.GetByteCount(text) > MaxBytes)
        {
            return (null, $"The message is longer than {MaxBytes} bytes.");
        }
        if (text.Contains('\r'))
        {
            return (null, "Lines must end with LF only.");
        }
        var lines = text.Split('\n');
        var at = 0;
        string? Next() => at < lines.Length ? lines[at++] : null;

        var header = Next()!;
        if (!header.EndsWith(Preamble, StringComparison.Ordinal))
        {
            return (null, $"The first line must be '<domain>{Preamble}'.");
        }
        var origin = header[..^Preamble.Length];
        string? scheme = null;
        var domain = origin;
        var schemeEnd = origin.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd >= 0)
        {
            scheme = origin[..schemeEnd];
            domain = origin[(schemeEnd + 3)..];
            if (!SchemePattern().IsMatch(scheme))
            {
                return (null, "The scheme is not an RFC 3986 scheme.");
            }
        }
        if (!AuthorityPattern().IsMatch(domain))
        {
            return (null, "The domain is not an RFC 3986 authority (host and optional port).");
        }

        var addressLine = Next();
        if (addressLine is null || !AddressPattern().IsMatch(addressLine) || !EvmAddress.TryParse(addressLine, out var address))
        {
            return (null, "The second line must be the 0x address.");
        }
        if (addressLine != address.ToString())
        {
            return (null, "The address must be in its EIP-55 checksum form.");
        }
        if (Next() != "")
        {
            return (null, "An empty line must follow the address.");
        }

        // The EIP writes an absent statement as a second empty line; viem and others write none. Both are unambiguous.
        string? statement = null;
        var line = Next();
        if (line == "")
        {
            line = Next();
        }
        else if (line is not null && !line.StartsWith("URI: ", StringComparison.Ordinal))
        {
            if (line.Any(char.IsControl))
            {
                return (null, "The statement holds control characters.");
            }
            statement = line;
            if (Next() != "")
            {
                return (null, "An empty line must follow the statement.");
            }
            line = Next();
        }

        if (Field(line, "URI: ") is not { } uriText || !TryUri(uriText, out var uri))
        {
            return (null, "'URI: ' must hold an absolute URI.");
        }
        if (Field(Next(), "Version: ") is not "1")
        {
            return (null, "'Version: 1' must follow the URI (version 1 is the only one).");
        }
        if (Field(Next(), "Chain ID: ") is not { } chainText || !ChainIdPattern().IsMatch(chainText)
            || !long.TryParse(chainText, NumberStyles.None, CultureInfo.InvariantCulture, out var chainId))
        {
            return (null, "'Chain ID: ' must hold an EIP-155 chain id.");
        }
        if (Field(Next(), "Nonce: ") is not { } nonce || !NoncePattern().IsMatch(nonce))
        {
            return (null, "'Nonce: ' must hold 8 to 64 letters and digits.");
        }
        if (Field(Next(), "Issued At: ") is not { } issuedText || !TryTime(issuedText, out var issuedAt))
        {
            return (null, "'Issued At: ' must hold an RFC 3339 date-time.");
        }

        var message = new SiweMessage
        {
            Scheme = scheme,
            Domain = domain,
            Address = address,
            Statement = statement,
            Uri = uri,
            Version = "1",
            ChainId = chainId,
            Nonce = nonce,
            IssuedAt = issuedAt,
        };
        line = Next();
        if (Field(line, "Expiration Time: ") is { } expiresText)
        {
            if (!TryTime(expiresText, out var expires))
            {
                return (null, "'Expiration Time: ' must hold an RFC 3339 date-time.");
            }
            message = message with { ExpirationTime = expires };
            line = Next();
        }
        if (Field(line, "Not Before: ") is { } notBeforeText)
        {
            if (!TryTime(notBeforeText, out var notBefore))
            {
                return (null, "'Not Before: ' must hold an RFC 3339 date-time.");
            }
            message = message with { NotBefore = notBefore };
            line = Next();
        }
        if (Field(line, "Request ID: ") is { } requestId)
        {
            if (requestId.Length > 200 || requestId.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            {
                return (null, "'Request ID: ' must be at most 200 visible characters.");
            }
            message = message with { RequestId = requestId };
            line = Next();
        }
        if (line == "Resources:")
        {
            var resources = new List<Uri>();
            while ((line = Next()) is not null)
            {
                if (Field(line, "- ") is not { } resourceText || !TryUri(resourceText, out var resource))
                {
                    return (null, "Each resource must be '- ' and an absolute URI.");
                }
                if (resources.Count == MaxResources)
                {
                    return (null, $"At most {MaxResources} resources.");
                }
                resources.Add(resource);
            }
            message = message with { Resources = resources };
        }
        return line is null
            ? (message, null)
            : (null, $"Unexpected line {at}: fields must come in the EIP-4361 order, once each, with nothing after them.");
    }

    private static string? Field(string? line, string name) =>
        line is not null && line.StartsWith(name, StringComparison.Ordinal) ? line[name.Length..] : null;

    private static bool TryUri(string text, out Uri uri)
    {
        uri = null!;
        // The scheme must be written: on Unix, .NET reads "/path" as an absolute file: URI.
        return text.Length <= 2048 && !text.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))
            && UriSchemePattern().IsMatch(text) && Uri.TryCreate(text, UriKind.Absolute, out uri!);
    }

    private static bool TryTime(string text, out DateTimeOffset time)
    {
        time = default;
        return TimePattern().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out time);
    }

    [GeneratedRegex("^[a-zA-Z][a-zA-Z0-9+.-]{0,31}$")]
    private static partial Regex SchemePattern();

    [GeneratedRegex("^[a-zA-Z][a-zA-Z0-9+.-]{0,31}:")]
    private static partial Regex UriSchemePattern();

    // A DNS name, IPv4 address, "localhost" or bracketed IPv6, with an optional port; no userinfo.
    [GeneratedRegex(@"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]{2,45}\])(?::[0-9]{1,5})?$")]
    private static partial Regex AuthorityPattern();

    [GeneratedRegex("^0x[0-9a-fA-F]{40}$")]
    private static partial Regex AddressPattern();

    [GeneratedRegex("^[1-9][0-9]{0,17}$")]
    private static partial Regex ChainIdPattern();

    [GeneratedRegex("^[a-zA-Z0-9]{8,64}$")]
    private static partial Regex NoncePattern();

    // RFC 3339 date-time with at most 7 fractional digits (.NET's resolution; viem writes 3).
    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,7})?(?:Z|[+-][0-9]{2}:[0-9]{2})$")]
    private static partial Regex TimePattern();
}
