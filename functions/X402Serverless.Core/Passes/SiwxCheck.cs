using System.Text.RegularExpressions;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Signup;

namespace X402Serverless.Core.Passes;

/// <summary>What a sign-in-with-x proof showed: the wallet, and until when its nonce must be remembered; or why it was refused.</summary>
public sealed record SiwxResult(EvmAddress? Wallet, DateTimeOffset KeepNonceUntil, string? Code, string? Message)
{
    public static SiwxResult Refused(string code, string message) => new(null, default, code, message);
}

/// <summary>
/// Checks a sign-in-with-x proof (x402's extension, CAIP-122 with EIP-4361 text on EVM chains) against this
/// gateway, everything but the nonce's single use (the caller records that last, so a refused proof leaves its
/// nonce unused): for this gateway's host and origin, bound to the resource it is sent to, on a chain the link is
/// paid on, issued at most <see cref="MaxAge"/> ago and not expired, signed by its address with EIP-191
/// personal_sign. The codes are the x402 reference's (invalid_siwx_*).
/// </summary>
public static partial class SiwxCheck
{
    /// <summary>How old a proof may be (the x402 reference's default): a captured header is worth nothing after it, and unusable twice before.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    /// <summary>Clock skew allowed for a proof issued "in the future" by a wallet's clock.</summary>
    public static readonly TimeSpan Skew = TimeSpan.FromSeconds(30);

    /// <param name="origin">This gateway's public origin (scheme, host, port).</param>
    /// <param name="resourcePath">The path the proof must be bound to (its URI's path is it or below it).</param>
    /// <param name="chainIds">EIP-155 chain ids accepted (the link's networks).</param>
    public static SiwxResult Run(SiwxPayload p, Uri origin, string resourcePath, IReadOnlyCollection<long> chainIds, DateTimeOffset now)
    {
        if (!string.Equals(p.Domain, origin.Authority, StringComparison.OrdinalIgnoreCase))
        {
            return SiwxResult.Refused("invalid_siwx_domain_mismatch", $"The proof is for '{p.Domain}', not for {origin.Authority}.");
        }
        if (!System.Uri.TryCreate(p.Uri, UriKind.Absolute, out var uri)
            || System.Uri.Compare(uri, origin, UriComponents.SchemeAndServer, UriFormat.SafeUnescaped, StringComparison.OrdinalIgnoreCase) != 0)
        {
            return SiwxResult.Refused("invalid_siwx_uri_mismatch", $"The proof's uri must be on {origin.GetLeftPart(UriPartial.Authority)}.");
        }
        var path = uri.AbsolutePath.TrimEnd('/');
        if (path != resourcePath && !path.StartsWith(resourcePath + "/", StringComparison.Ordinal))
        {
            // A proof for one link cannot spend a pass on another.
            return SiwxResult.Refused("invalid_siwx_uri_mismatch", $"The proof's uri must be this resource ({resourcePath}).");
        }
        if (!ChainPattern().IsMatch(p.ChainId) || !long.TryParse(p.ChainId.AsSpan(7), out var chainId))
        {
            return SiwxResult.Refused("invalid_siwx_unsupported_chain", "chainId must be an EVM chain as CAIP-2 (eip155:<id>).");
        }
        if (!chainIds.Contains(chainId))
        {
            return SiwxResult.Refused("invalid_siwx_chain_id", $"Chain {p.ChainId} is not one this link is paid on.");
        }
        if (p.Type != "eip191")
        {
            return SiwxResult.Refused("invalid_siwx_unsupported_chain", "Only EIP-191 (personal_sign) proofs are taken.");
        }
        if (SiwxMessageText.For(p, chainId) is not { } text)
        {
            return SiwxResult.Refused("invalid_siwx_message", "A field of the proof holds a line break.");
        }
        var (message, error) = SiweParser.Parse(text);
        if (message is null)
        {
            return SiwxResult.Refused("invalid_siwx_message", "The proof is not a well-formed EIP-4361 message: " + error);
        }
        if (message.IssuedAt < now - MaxAge)
        {
            return SiwxResult.Refused("invalid_siwx_issued_at_too_old", $"The proof was issued more than {MaxAge.TotalMinutes} minutes ago; sign a new one.");
        }
        if (message.IssuedAt > now + Skew)
        {
            return SiwxResult.Refused("invalid_siwx_issued_at_in_future", "The proof says it was issued later than now.");
        }
        if (message.ExpirationTime <= now)
        {
            return SiwxResult.Refused("invalid_siwx_expired", "The proof has expired.");
        }
        if (message.NotBefore > now + Skew)
        {
            return SiwxResult.Refused("invalid_siwx_not_yet_valid", "The proof is not valid yet (notBefore).");
        }
        if (!Crypto.Hex.TryDecode(p.Signature, out var signature) || signature.Length != 65)
        {
            return SiwxResult.Refused("invalid_siwx_malformed_signature", "signature must be 0x and 65 bytes of hex (personal_sign).");
        }
        if (PersonalSign.Recover(text, p.Signature) is not { } signer || signer != message.Address)
        {
            return SiwxResult.Refused("invalid_siwx_signature", "The signature is not the proof's address's.");
        }
        // Past its age limit the proof is refused anyway, so its nonce need not be remembered longer.
        var keepUntil = message.IssuedAt + MaxAge + Skew;
        return new SiwxResult(signer, message.ExpirationTime is { } expires && expires < keepUntil ? expires : keepUntil, null, null);
    }

    [GeneratedRegex("^eip155:[0-9]{1,18}$")]
    private static partial Regex ChainPattern();
}
