using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Signup;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Signup;

/// <summary>
/// Checks a signed Sign-In with Ethereum message against this gateway: well-formed (EIP-4361), signed by its address
/// (EIP-191 personal_sign), for this gateway's own public host and origin, on a configured chain, current by this
/// gateway's clock, and carrying a nonce issued here and never used before (used last, so a refused message leaves
/// its nonce usable).
/// </summary>
internal sealed class SiweVerifier(ISignupStore store, NetworkRegistry networks, PublicUrls urls, IOptions<SignupOptions> options, TimeProvider time)
{
    /// <param name="statement">The statement a message for this kind of account carries (see <see cref="SignupEndpoints.StatementFor"/>).</param>
    public async Task<(SiweMessage? Message, ProblemHttpResult? Problem)> VerifyAsync(string text, string signature, string statement, HttpRequest request,
        CancellationToken cancellationToken)
    {
        if (Encoding.UTF8.GetByteCount(text) > SiweParser.MaxBytes)
        {
            return Refused(StatusCodes.Status400BadRequest, "siwe_message_too_large", $"The message is longer than {SiweParser.MaxBytes} bytes.");
        }
        var (message, error) = SiweParser.Parse(text);
        if (message is null)
        {
            return Refused(StatusCodes.Status400BadRequest, "invalid_siwe_message", "The message is not an EIP-4361 Sign-In with Ethereum message.", error);
        }
        if (PersonalSign.Recover(text, signature) is not { } signer)
        {
            return Refused(StatusCodes.Status400BadRequest, "invalid_signature",
                "signature must be the wallet's personal_sign signature: 0x and 65 bytes of hex (r, s low, v).");
        }
        if (signer != message.Address)
        {
            return Refused(StatusCodes.Status401Unauthorized, "siwe_signature_invalid", "The signature is not the message's address's.",
                "Smart-contract wallets (EIP-1271) are not supported; sign with the account's own key.");
        }
        var origin = new Uri(urls.BaseUrl(request));
        if (!string.Equals(message.Domain, origin.Authority, StringComparison.OrdinalIgnoreCase)
            || (message.Scheme is not null && !string.Equals(message.Scheme, origin.Scheme, StringComparison.OrdinalIgnoreCase)))
        {
            return Refused(StatusCodes.Status401Unauthorized, "siwe_wrong_domain", "The message is for another site.",
                $"Sign a message for {origin.Authority} (as POST /api/signup/nonce says).");
        }
        if (Uri.Compare(message.Uri, origin, UriComponents.SchemeAndServer, UriFormat.SafeUnescaped, StringComparison.OrdinalIgnoreCase) != 0)
        {
            return Refused(StatusCodes.Status401Unauthorized, "siwe_wrong_uri", "The message's URI is not on this gateway.",
                $"Use a URI on {origin.GetLeftPart(UriPartial.Authority)}.");
        }
        if (!networks.All.Any(n => n.ChainId == message.ChainId))
        {
            return Refused(StatusCodes.Status401Unauthorized, "siwe_wrong_chain", "The message's chain is not one this gateway takes.",
                "Chain ids taken: " + string.Join(", ", ChainIds()) + ".");
        }
        if (!string.Equals(message.Statement, statement, StringComparison.Ordinal))
        {
            return Refused(StatusCodes.Status401Unauthorized, "siwe_wrong_role", "The message was not signed for this kind of account.",
                $"Its statement must read \"{statement}\" (as POST /api/signup/nonce?role=… says).");
        }
        var now = time.GetUtcNow();
        var skew = TimeSpan.FromSeconds(options.Value.ClockSkewSeconds);
        if (message.IssuedAt > now + skew)
        {
            return Refused(StatusCodes.Status401Unauthorized, "siwe_issued_in_future", "The message says it was issued later than now.");
        }
        if (message.ExpirationTime <= now)
        {
            return Refused(StatusCodes.Status401Unauthorized, "siwe_expired", "The message has expired.");
        }
        if (message.NotBefore > now + skew)
        {
            return Refused(StatusCodes.Status401Unauthorized, "siwe_not_yet_valid", "The message is not valid yet (Not Before).");
        }
        return await store.UseNonceAsync(message.Nonce, now, cancellationToken) switch
        {
            NonceUse.Used => (message, null),
            NonceUse.AlreadyUsed => Refused(StatusCodes.Status401Unauthorized, "siwe_nonce_used", "This nonce was already used; get a new one."),
            NonceUse.Expired => Refused(StatusCodes.Status401Unauthorized, "siwe_nonce_expired", "This nonce has expired; get a new one."),
            _ => Refused(StatusCodes.Status401Unauthorized, "siwe_nonce_unknown", "This nonce was not issued here; get one from POST /api/signup/nonce."),
        };
    }

    public IReadOnlyList<long> ChainIds() => networks.All.Select(n => n.ChainId).Distinct().Order().ToList();

    private static (SiweMessage?, ProblemHttpResult?) Refused(int status, string code, string title, string? detail = null) =>
        (null, Problem.Typed(status, code, title, detail));
}
