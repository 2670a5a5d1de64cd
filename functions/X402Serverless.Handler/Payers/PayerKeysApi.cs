using X402Serverless.Core.Ports;
using X402Serverless.Handler.Management;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Payers;

/// <summary>
/// A payer's keys: list (prefixes only), issue another (shown once), revoke one (it stops paying at once). Served to
/// the payer under /api/me/keys and to its organisation under /api/payers/{id}/keys.
/// </summary>
internal static class PayerKeysApi
{
    /// <summary>/api/me/keys: the payer acts on its own keys.</summary>
    public static void MapPayerKeys(this RouteGroupBuilder me, Func<HttpContext, string> payerOf)
    {
        me.MapGet("/keys", (HttpContext http, IPayerStore payers) => ListAsync(payerOf(http), http, payers));
        me.MapPost("/keys", (HttpContext http, IPayerStore payers, TimeProvider time) => IssueAsync(payerOf(http), "/api/me/keys", http, payers, time));
        me.MapDelete("/keys/{keyId}", (string keyId, HttpContext http, IPayerStore payers) => RevokeAsync(payerOf(http), keyId, http, payers));
    }

    /// <summary>/api/payers/{id}/keys: the organisation acts on a member's keys (e.g. one that leaked or was lost).</summary>
    public static void MapMemberKeys(this RouteGroupBuilder api)
    {
        api.MapGet("/payers/{id}/keys", async (string id, HttpContext http, IPayerStore payers) =>
            await IsMemberAsync(id, http, payers) ? await ListAsync(id, http, payers) : Problem.NotFound("Payer"));
        api.MapPost("/payers/{id}/keys", async (string id, HttpContext http, IPayerStore payers, TimeProvider time) =>
            await IsMemberAsync(id, http, payers) ? await IssueAsync(id, $"/api/payers/{id}/keys", http, payers, time) : Problem.NotFound("Payer"));
        api.MapDelete("/payers/{id}/keys/{keyId}", async (string id, string keyId, HttpContext http, IPayerStore payers) =>
            await IsMemberAsync(id, http, payers) ? await RevokeAsync(id, keyId, http, payers) : Problem.NotFound("Payer"));
    }

    private static async Task<bool> IsMemberAsync(string payerId, HttpContext http, IPayerStore payers) =>
        await payers.GetAsync(payerId, http.RequestAborted) is { } payer && payer.OrganisationId == CallerContext.Of(http).Organisation.Id;

    private static async Task<IResult> ListAsync(string payerId, HttpContext http, IPayerStore payers) =>
        TypedResults.Ok(new
        {
            items = (await payers.ListKeysAsync(payerId, http.RequestAborted)).Select(k => new { id = k.Id, prefix = k.Prefix, createdAt = k.CreatedAt }),
        });

    private static async Task<IResult> IssueAsync(string payerId, string location, HttpContext http, IPayerStore payers, TimeProvider time)
    {
        var (record, hash, key) = PayerKeys.Issue(payerId, time.GetUtcNow());
        await payers.AddKeyAsync(record, hash, http.RequestAborted);
        return TypedResults.Created($"{location}/{record.Id}", new { id = record.Id, prefix = record.Prefix, key });
    }

    private static async Task<IResult> RevokeAsync(string payerId, string keyId, HttpContext http, IPayerStore payers) =>
        await payers.RevokeKeyAsync(payerId, keyId, http.RequestAborted) ? TypedResults.NoContent() : Problem.NotFound("Key");
}
