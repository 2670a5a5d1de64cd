using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Links;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Payers;
using X402Serverless.Handler.Problems;
using X402Serverless.Handler.Requests;

namespace X402Serverless.Handler.Signup;

/// <summary>
/// /api/signup: self-serve sign-up with Sign-In with Ethereum. Ask for a nonce, have the wallet sign an EIP-4361
/// message with it, post the message and signature: a first sign-in makes the account (an organisation for a provider,
/// a payer account for a payer) and returns its first key once; a later one returns one more key of the same account.
/// No key is needed; every route is rate-limited per client address and closed when X402:Signup:Open is false.
/// </summary>
internal static class SignupEndpoints
{
    // The role is in what the wallet shows its owner and what is checked: a message signed to get a payer key cannot
    // be posted for a provider's admin key (nor the other way round).
    public const string ProviderStatement = "Sign in to the x402 gateway as a provider.";
    public const string PayerStatement = "Sign in to the x402 gateway as a payer.";

    public static string StatementFor(string role) => role == "payer" ? PayerStatement : ProviderStatement;

    public static void MapSignup(this IEndpointRouteBuilder app)
    {
        var signup = app.MapGroup("/api/signup").RequireRateLimiting(SignupRateLimit.Name).AddEndpointFilter(async (context, next) =>
            Refusal(context.HttpContext) is { } refused ? refused : await next(context));
        signup.MapPost("/nonce", async (HttpContext http, SignupNonces nonces, SiweVerifier verifier, PublicUrls urls) =>
        {
            var role = http.Request.Query["role"].ToString() is { Length: > 0 } asked ? asked : "provider";
            if (role is not ("provider" or "payer"))
            {
                return (IResult)Problem.Of(StatusCodes.Status400BadRequest, "invalid_role", "role is provider or payer.",
                    "POST /api/signup/nonce?role=provider (the default) or ?role=payer: the message's statement names it.");
            }
            var baseUrl = urls.BaseUrl(http.Request);
            var (nonce, issuedAt, expiresAt) = await nonces.IssueAsync(http.RequestAborted);
            http.Response.Headers.CacheControl = "no-store";
            return TypedResults.Ok(new NonceView(nonce, new Uri(baseUrl).Authority, baseUrl, verifier.ChainIds(), "1", StatementFor(role), issuedAt, expiresAt));
        });
        signup.MapPost("/provider", ProviderAsync);
        signup.MapPost("/payer", PayerAsync);
    }

    private static async Task<Results<Created<ProviderSignup>, Ok<ProviderSignup>, ProblemHttpResult>> ProviderAsync(
        HttpContext http, SiweVerifier verifier, SignupAccounts accounts, IAccessStore access)
    {
        var (request, invalid) = await ReadAsync(http.Request, http.RequestAborted);
        if (request is null)
        {
            return invalid!;
        }
        var (message, refused) = await verifier.VerifyAsync(request.Message, request.Signature, ProviderStatement, http.Request, http.RequestAborted);
        if (message is null)
        {
            return refused!;
        }
        var result = await accounts.ProviderAsync(message.Address, request.Name, http.RequestAborted);
        if (result.AccountId is null || await access.FindOrganisationAsync(result.AccountId, http.RequestAborted) is not { } organisation)
        {
            return InProgress(http);
        }
        http.Response.Headers.CacheControl = "no-store";
        // The wallet is the actor: a first sign-in made the organisation, a later one gave it one more admin key.
        await RecordAsync(http, organisation.Id, message.Address.ToString(), result.IsNew ? "organisation.signup" : "key.signup",
            result.IsNew ? "organisation" : "key", result.IsNew ? organisation.Id : result.KeyId!,
            new { organisation = organisation.Id, keyId = result.KeyId, role = Core.Access.KeyRoles.Admin }, result.IsNew ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        var body = new ProviderSignup(new OrganisationSummary(organisation.Id, organisation.Name), message.Address.ToString(), result.KeyId!, result.Key!, result.IsNew);
        return result.IsNew ? TypedResults.Created("/api/organisation", body) : TypedResults.Ok(body);
    }

    private static async Task<Results<Created<PayerSignup>, Ok<PayerSignup>, ProblemHttpResult>> PayerAsync(
        HttpContext http, SiweVerifier verifier, SignupAccounts accounts, IAccessStore access, IPayerStore payers, PayerAccounts views)
    {
        var (request, invalid) = await ReadAsync(http.Request, http.RequestAborted);
        if (request is null)
        {
            return invalid!;
        }
        var (message, refused) = await verifier.VerifyAsync(request.Message, request.Signature, PayerStatement, http.Request, http.RequestAborted);
        if (message is null)
        {
            return refused!;
        }
        if (await access.FindOperatorAsync(http.RequestAborted) is not { } operatorOrganisation)
        {
            return Problem.Typed(StatusCodes.Status503ServiceUnavailable, "signup_unavailable", "The gateway has no operator organisation yet.");
        }
        var result = await accounts.PayerAsync(message.Address, request.Name, operatorOrganisation.Id, http.RequestAborted);
        if (result.AccountId is null || await payers.GetAsync(result.AccountId, http.RequestAborted) is not { } payer)
        {
            return InProgress(http);
        }
        http.Response.Headers.CacheControl = "no-store";
        await RecordAsync(http, operatorOrganisation.Id, message.Address.ToString(), result.IsNew ? "payer.signup" : "payer.key.signup",
            "payer", payer.Id, new { payer = payer.Id, keyId = result.KeyId }, result.IsNew ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        var body = new PayerSignup(await views.ViewAsync(payer, http.RequestAborted), message.Address.ToString(), result.KeyId!, result.Key!, result.IsNew);
        return result.IsNew ? TypedResults.Created("/api/me", body) : TypedResults.Ok(body);
    }

    /// <summary>A sign-up in the organisation's audit log, by the wallet that signed (never the key it was given).</summary>
    private static Task RecordAsync(HttpContext http, string organisationId, string wallet, string action, string targetType, string targetId, object after, int status) =>
        http.RequestServices.GetRequiredService<Audit.AuditRecorder>().RecordAsync(http, organisationId,
            new Core.Access.AuditActor(Core.Access.AuditActor.WalletKind, wallet, wallet, null),
            new Audit.AuditedAction(action, targetType, targetId, null, Audit.AuditRedaction.Serialize(Audit.AuditSnapshots.ToNode(http, after)), status));

    /// <summary>
    /// Sign-up closed, or open on a gateway that does not know its own public origin: then the domain a message must
    /// name would come from the request's Host, which a relaying site sets to its own (and has a visitor's wallet sign for
    /// it), so only a gateway reached on loopback (a laptop) takes sign-ups without PublicBaseUrl. Null when it may go on.
    /// </summary>
    public static ProblemHttpResult? Refusal(HttpContext http)
    {
        if (!http.RequestServices.GetRequiredService<IOptions<SignupOptions>>().Value.Open)
        {
            return Problem.Typed(StatusCodes.Status403Forbidden, "signup_closed", "Open sign-up is off on this gateway.",
                "Ask the operator for an organisation (POST /api/organisations) or an organisation for a payer key (POST /api/payers).");
        }
        if (!http.RequestServices.GetRequiredService<PublicUrls>().IsConfigured && !IsLoopback(http.Request.Host.Host))
        {
            return Problem.Typed(StatusCodes.Status403Forbidden, "signup_needs_public_url", "This gateway does not know its public address.",
                "The operator sets X402:PublicBaseUrl (the origin wallets sign for); until then sign-up is taken on loopback only.");
        }
        return null;
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var address) && FunctionsHost.IsLoopback(address));

    private static ProblemHttpResult InProgress(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "1";
        return Problem.Typed(StatusCodes.Status409Conflict, "signup_in_progress",
            "Another sign-up of this wallet is being made; sign in again (with a new nonce) in a moment.");
    }

    // A closed contract like every body: message and signature required, name optional, nothing else.
    private static async Task<(SignupRequest? Request, ProblemHttpResult? Problem)> ReadAsync(HttpRequest http, CancellationToken cancellationToken)
    {
        if (await JsonBody.ReadObjectAsync(http, cancellationToken) is not { } root)
        {
            return (null, JsonBody.Invalid());
        }
        var errors = new List<ValidationError>();
        string? message = null, signature = null, name = null;
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "message" or "signature" or "name" when value.ValueKind == JsonValueKind.String:
                    var text = value.GetString()!;
                    _ = property.Name switch { "message" => message = text, "signature" => signature = text, _ => name = text };
                    break;
                case "name" when value.ValueKind == JsonValueKind.Null:
                    break;
                case "message" or "signature" or "name":
                    errors.Add(new(property.Name, JsonContract.InvalidTypeCode, $"{property.Name} must be a string."));
                    break;
                default:
                    errors.Add(new(property.Name, JsonContract.UnknownFieldCode,
                        $"'{property.Name}' is not a field of this request (names are case-sensitive); known fields: message, name, signature."));
                    break;
            }
        }
        if (message is null && !errors.Any(e => e.Field == "message"))
        {
            errors.Add(new("message", "required", "message is required: the EIP-4361 text the wallet signed, exactly as signed."));
        }
        if (signature is null && !errors.Any(e => e.Field == "signature"))
        {
            errors.Add(new("signature", "required", "signature is required: the wallet's personal_sign signature of message (0x hex)."));
        }
        if (name is not null && (string.IsNullOrWhiteSpace(name) || name.Trim().Length > 200 || name.Any(char.IsControl)))
        {
            errors.Add(new("name", "invalid_name", "name must be 1–200 characters without control characters."));
        }
        return errors.Count > 0
            ? (null, Problem.Invalid("The sign-up request is not valid.", errors))
            : (new SignupRequest(message!, signature!, name?.Trim()), null);
    }

    private sealed record SignupRequest(string Message, string Signature, string? Name);
}

/// <summary>What to put in the message: sign it as EIP-4361 with this nonce, domain and URI, on one of these chains.</summary>
internal sealed record NonceView(string Nonce, string Domain, string Uri, IReadOnlyList<long> ChainIds, string Version, string Statement,
    DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt);

internal sealed record OrganisationSummary(string Id, string Name);

/// <summary>The provider's organisation and a new management key, shown once; isNew on the wallet's first sign-in.</summary>
internal sealed record ProviderSignup(OrganisationSummary Organisation, string Wallet, string KeyId, string Key, bool IsNew);

/// <summary>The payer account and a new payer key, shown once; isNew on the wallet's first sign-in.</summary>
internal sealed record PayerSignup(PayerView Payer, string Wallet, string KeyId, string Key, bool IsNew);
