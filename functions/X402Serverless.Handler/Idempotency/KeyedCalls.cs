using System.Security.Cryptography;
using X402Serverless.Core.Access;
using X402Serverless.Core.Charges;
using X402Serverless.Core.Idempotency;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Payers;
using X402Serverless.Handler.Paywall;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Idempotency;

/// <summary>
/// <c>Idempotency-Key</c> on calls paid from a balance (a payer key; the paywall's credits form sends one of its own):
/// the same key, payer and request again gets the first call's recorded answer and is never charged twice, as an x402
/// <c>payment-identifier</c> is (<see cref="IdentifiedCalls"/>, whose store and recording this shares). The hold's id is
/// chosen before the claim and kept in it, so a retry after the first call's process died can tell from the ledger
/// whether that call was charged: if it was, the content is fetched again without paying.
/// </summary>
internal sealed class KeyedCalls(
    IPaymentIdentifierStore store,
    IPayerStore payers,
    ILedger ledger,
    PaidCallAuthorizer authorizer,
    IdentifiedCalls identified,
    TimeProvider time)
{
    public const string Header = "Idempotency-Key";
    public const string Invalid = "invalid_idempotency_key";
    public const string Conflict = "idempotency_key_conflict";

    /// <summary>The whole answer to a payer-key call carrying an idempotency key, or null to handle it as any other.</summary>
    public async Task<IResult?> TryHandleAsync(HttpContext http, CachedLink cached, string? rest)
    {
        var request = http.Request;
        if (!request.Headers.TryGetValue(Header, out var values) || PaymentHeaders.Read(request).Version != 0
            || PayerKeys.FromRequest(request) is not { } payerKey)
        {
            return null;
        }
        var key = values.ToString();
        if (values.Count != 1 || !PaymentIdentifiers.IsValid(key))
        {
            return Problem.Of(StatusCodes.Status400BadRequest, Invalid, "The Idempotency-Key is malformed; nothing was charged.",
                $"Send one Idempotency-Key of {PaymentIdentifiers.MinLength}–{PaymentIdentifiers.MaxLength} letters, digits, '-' and '_', new for each new call.");
        }
        if (await payers.FindByKeyHashAsync(ManagementKeys.Hash(payerKey), http.RequestAborted) is not { } payer)
        {
            return null; // the authorizer refuses it with its own reason
        }

        var now = time.GetUtcNow();
        var call = new IdentifiedCall
        {
            LinkId = cached.Link.Id,
            Payer = "payer:" + payer.Id,
            Id = key,
            Fingerprint = await FingerprintAsync(request, rest),
            PaymentId = ledger.NewHoldId(now),
            Owner = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            ExpiresAt = now + identified.InFlightLease(),
        };
        var claim = await store.ClaimAsync(call, now, http.RequestAborted);
        if (!claim.Claimed)
        {
            return Repeat(http, claim.Found, call);
        }
        if (claim.Found is { Completed: false } crashed && crashed.Fingerprint == call.Fingerprint
            && await ledger.EntryExistsAsync(crashed.PaymentId + ":capture", http.RequestAborted))
        {
            // The call that held this key was charged and died before its answer was recorded: the content again, unpaid.
            var recovered = new RecoveredCharge(new BalanceReceipt(cached.Price, FromAllowance: false, payer.Id));
            return await identified.RunAsync(http, cached, rest, recovered, call, abandonUncaptured: false);
        }

        var authorization = await authorizer.AuthorizeAsync(http, cached, holdId: call.PaymentId);
        if (authorization.Charge is not { } charge)
        {
            await store.AbandonAsync(call.LinkId, call.Payer, call.Id, call.Owner, CancellationToken.None);
            return authorization.Refusal!;
        }
        return await identified.RunAsync(http, cached, rest, charge, call, abandonUncaptured: true);
    }

    private static IResult Repeat(HttpContext http, IdentifiedCall? found, IdentifiedCall call)
    {
        if (found is null || !found.Completed)
        {
            return IdentifiedCalls.InProgress(http, "The first call with this Idempotency-Key is still running; retry shortly.");
        }
        return found.Fingerprint == call.Fingerprint
            ? new ReplayedAnswer(found.Answer!)
            : Problem.Of(StatusCodes.Status409Conflict, Conflict, "This Idempotency-Key was used for another request; nothing was charged.",
                "Use a new Idempotency-Key for a new call.");
    }

    /// <summary>
    /// What a repeat must equal: method, path and query under the link, and the body's hash (read once, then rewound
    /// for the upstream).
    /// </summary>
    private static async Task<string> FingerprintAsync(HttpRequest request, string? rest)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{request.Method.ToUpperInvariant()}\n{rest}{request.QueryString.Value}\n"));
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            request.EnableBuffering();
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await request.Body.ReadAsync(buffer, request.HttpContext.RequestAborted)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
            request.Body.Position = 0;
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
