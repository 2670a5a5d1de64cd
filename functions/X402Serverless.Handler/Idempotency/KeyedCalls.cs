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
/// <c>Idempotency-Key</c> on what a payer key pays for from a balance (a paid call; a pass): the same key, payer and
/// request again gets the first answer and is never charged twice, as an x402 <c>payment-identifier</c> is
/// (<see cref="IdentifiedCalls"/>, whose store and recording this shares). The claim names the hold that pays, chosen
/// before anything is held, so a retry after the first request's process died asks the ledger whether that hold was
/// captured: if so, what it paid for is delivered again unpaid; if not, the claim starts afresh.
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

    /// <summary>
    /// What claiming a key gave: an answer to return as it is (a repeat, a conflict, in progress), or the claim to run
    /// under, <see cref="Recovered"/> when its hold (<see cref="IdentifiedCall.PaymentId"/>) was captured by a request that died
    /// (<see cref="FromAllowance"/>: that hold was taken from the allowance, not the payer's credits).
    /// </summary>
    internal sealed record Claim(IResult? Answer, IdentifiedCall? Call, bool Recovered, bool FromAllowance = false);

    /// <summary>The key of a request, or a problem when it is malformed; (null, null) when it carries none.</summary>
    public static (string? Key, IResult? Problem) Read(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(Header, out var values))
        {
            return (null, null);
        }
        return values.Count == 1 && PaymentIdentifiers.IsValid(values.ToString())
            ? (values.ToString(), null)
            : (null, Problem.Of(StatusCodes.Status400BadRequest, Invalid, "The Idempotency-Key is malformed; nothing was charged.",
                $"Send one Idempotency-Key of {PaymentIdentifiers.MinLength}–{PaymentIdentifiers.MaxLength} letters, digits, '-' and '_', new for each new call."));
    }

    /// <summary>The whole answer to a payer-key call carrying an idempotency key, or null to handle it as any other.</summary>
    public async Task<IResult?> TryHandleAsync(HttpContext http, CachedLink cached, string? rest)
    {
        var request = http.Request;
        if (!request.Headers.ContainsKey(Header) || PaymentHeaders.Read(request).Version != 0 || PayerKeys.FromRequest(request) is not { } payerKey)
        {
            return null;
        }
        var (key, malformed) = Read(request);
        if (malformed is not null)
        {
            return malformed;
        }
        if (await payers.FindByKeyHashAsync(ManagementKeys.Hash(payerKey), http.RequestAborted) is not { } payer)
        {
            return null; // the authorizer refuses it with its own reason
        }
        var claim = await ClaimAsync(http, cached.Link.Id, payer.Id, key!, await FingerprintAsync(request, rest));
        if (claim.Call is not { } call)
        {
            return claim.Answer;
        }
        if (claim.Recovered)
        {
            var recovered = new RecoveredCharge(new BalanceReceipt(cached.Price, claim.FromAllowance, payer.Id));
            return await identified.RunAsync(http, cached, rest, recovered, call, abandonUncaptured: false);
        }
        var authorization = await authorizer.AuthorizeAsync(http, cached, holdId: call.PaymentId);
        if (authorization.Charge is not { } charge)
        {
            await AbandonAsync(call);
            return authorization.Refusal!;
        }
        return await identified.RunAsync(http, cached, rest, charge, call, abandonUncaptured: true);
    }

    /// <summary>
    /// Claims (link, payer, key) for a request with this fingerprint. A completed entry answers again; another request's
    /// is a conflict; a live one is in progress. An entry a dead request left (its lease run out) is taken over: with its
    /// hold when that hold was captured (<see cref="Claim.Recovered"/>), else afresh with a new hold id.
    /// </summary>
    public async Task<Claim> ClaimAsync(HttpContext http, string linkId, string payerId, string key, string fingerprint)
    {
        var now = time.GetUtcNow();
        var scope = "payer:" + payerId;
        // A dead request's hold id is carried into the claim that takes it over, so the entry always names the hold
        // that may have paid, even if this request dies too.
        var left = await store.GetAsync(linkId, scope, key, http.RequestAborted);
        var carried = left is { Completed: false } && left.ExpiresAt <= now && left.Fingerprint == fingerprint ? left.PaymentId : null;
        var call = new IdentifiedCall
        {
            LinkId = linkId,
            Payer = scope,
            Id = key,
            Fingerprint = fingerprint,
            PaymentId = carried ?? ledger.NewHoldId(now),
            Owner = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            ExpiresAt = now + identified.InFlightLease(),
        };
        var claim = await store.ClaimAsync(call, now, http.RequestAborted);
        if (!claim.Claimed)
        {
            return new Claim(Repeat(http, claim.Found, call), null, false);
        }
        if (claim.Found is not { Completed: false } dead || dead.Fingerprint != fingerprint)
        {
            return new Claim(null, call, false);
        }
        if (dead.PaymentId != call.PaymentId)
        {
            // Another request took the entry over between the look and the claim: let it finish.
            await AbandonAsync(call);
            return new Claim(IdentifiedCalls.InProgress(http, "The first request with this Idempotency-Key is still being resolved; retry shortly."), null, false);
        }
        if (await ledger.EntryExistsAsync(call.PaymentId + ":capture", http.RequestAborted))
        {
            // What the hold was taken from is in its own entry (keyed by the hold id), or, where holds are not written
            // (SQLite), in the capture's debit: the recovered answer names it truly.
            var held = await ledger.EntryLegsAsync(call.PaymentId, http.RequestAborted)
                ?? await ledger.EntryLegsAsync(call.PaymentId + ":capture", http.RequestAborted);
            var fromAllowance = held?.Any(l => l.Amount.Micros < 0 && l.Account.StartsWith("allowance:", StringComparison.Ordinal)) == true;
            return new Claim(null, call, true, fromAllowance);
        }
        // The dead request charged nothing (its hold, if any, goes back with the stale-hold sweep): start afresh.
        await AbandonAsync(call);
        var fresh = call with { PaymentId = ledger.NewHoldId(now), Owner = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)) };
        var again = await store.ClaimAsync(fresh, now, http.RequestAborted);
        return again.Claimed ? new Claim(null, fresh, false) : new Claim(Repeat(http, again.Found, fresh), null, false);
    }

    /// <summary>Records what the payer got, so a repeat gets it again (when it fits, else its status and headers).</summary>
    public Task CompleteAsync(IdentifiedCall call, RecordedAnswer answer) => identified.CompleteAsync(call, answer);

    /// <summary>Frees the key: nothing was charged under it.</summary>
    public Task AbandonAsync(IdentifiedCall call) => store.AbandonAsync(call.LinkId, call.Payer, call.Id, call.Owner, CancellationToken.None);

    private static IResult Repeat(HttpContext http, IdentifiedCall? found, IdentifiedCall call)
    {
        if (found is null || !found.Completed)
        {
            return IdentifiedCalls.InProgress(http, "The first request with this Idempotency-Key is still running; retry shortly.");
        }
        return found.Fingerprint == call.Fingerprint
            ? new ReplayedAnswer(found.Answer!)
            : Problem.Of(StatusCodes.Status409Conflict, Conflict, "This Idempotency-Key was used for another request; nothing was charged.",
                "Use a new Idempotency-Key for a new request.");
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
