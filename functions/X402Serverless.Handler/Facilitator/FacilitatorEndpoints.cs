using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Networks;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Problems;
using X402Serverless.Handler.Requests;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Handler.Facilitator;

/// <summary>
/// The built-in facilitator as a standard x402 facilitator (/facilitator/supported, /verify, /settle), so other x402
/// servers can settle through this deployment's gas wallet. /verify and /settle take a management key by default.
/// </summary>
internal static class FacilitatorEndpoints
{
    // x402 clients validate these bodies strictly: absent optional fields must be absent, not null.
    private static readonly JsonSerializerOptions Wire = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static void MapFacilitator(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/facilitator");
        group.MapGet("/supported", Supported);
        group.MapPost("/verify", (HttpContext http, BuiltInFacilitatorHolder holder, FacilitatorService service) =>
            HandleAsync(http, holder, service, settle: false));
        group.MapPost("/settle", (HttpContext http, BuiltInFacilitatorHolder holder, FacilitatorService service) =>
            HandleAsync(http, holder, service, settle: true));
    }

    private static IResult Supported(BuiltInFacilitatorHolder holder, NetworkRegistry networks, IOptions<SettlementOptions> options)
    {
        if (holder.Facilitator is not { } facilitator || !options.Value.ServeFacilitator)
        {
            return Unavailable();
        }
        var kinds = new JsonArray();
        foreach (var n in networks.All.Where(n => n.RpcUrl is not null))
        {
            kinds.Add(new JsonObject { ["x402Version"] = 2, ["scheme"] = "exact", ["network"] = n.Id });
            if (n.V1Name is not null)
            {
                kinds.Add(new JsonObject { ["x402Version"] = 1, ["scheme"] = "exact", ["network"] = n.V1Name });
            }
        }
        return Results.Json(new JsonObject
        {
            ["kinds"] = kinds,
            ["extensions"] = new JsonArray(),
            ["signers"] = new JsonObject { ["eip155:*"] = new JsonArray(facilitator.Wallet.Address.ToString()) },
        });
    }

    private static async Task<IResult> HandleAsync(HttpContext http, BuiltInFacilitatorHolder holder, FacilitatorService service, bool settle)
    {
        if (holder.Facilitator is not { } facilitator || !service.Options.Value.ServeFacilitator)
        {
            return Unavailable();
        }
        var (caller, refusal) = await service.Gate.AdmitAsync(http);
        if (caller is null)
        {
            return refusal!;
        }
        if (await JsonBody.ReadAsync(http.Request, http.RequestAborted) is not { } root)
        {
            return JsonBody.Invalid();
        }
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("paymentPayload", out var payload)
            || !root.TryGetProperty("paymentRequirements", out var requirements) || requirements.ValueKind != JsonValueKind.Object)
        {
            return Problem.Of(StatusCodes.Status400BadRequest, "invalid_request", "paymentPayload and paymentRequirements (an object) are required.");
        }
        var version = 2;
        if (root.TryGetProperty("x402Version", out var v) && !(v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out version)))
        {
            return Problem.Of(StatusCodes.Status400BadRequest, ReasonCodes.InvalidVersion, "x402Version must be an integer.");
        }
        var request = new SettleRequest(version, payload, JsonNode.Parse(requirements.GetRawText())!.AsObject());

        var payer = request.PaymentPayload is { ValueKind: JsonValueKind.Object } pp && pp.TryGetProperty("payload", out var p)
            && p.ValueKind == JsonValueKind.Object && p.TryGetProperty("authorization", out var a) && a.ValueKind == JsonValueKind.Object
            && a.TryGetProperty("from", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
        var (network, policyReason, policyMessage, asksWallet) = service.Policy.Check(request);
        if (policyReason is not null)
        {
            // Refused before the chain is asked: a payment this gateway would not take on a paid link is not settled either.
            return settle
                ? Results.Json(new { success = false, errorReason = policyReason, errorMessage = policyMessage, payer, transaction = "",
                    network = request.PaymentRequirements["network"] is JsonValue nv && nv.TryGetValue<string>(out var nn) ? nn : "" }, Wire)
                : Results.Json(new { isValid = false, invalidReason = policyReason, invalidMessage = policyMessage, payer }, Wire);
        }
        if (asksWallet && service.Limits.AdmitContractWalletCheck(http) is { } limited)
        {
            // Each contract wallet's word costs the node an eth_call (an EIP-6492 one a simulated deployment): bounded per
            // client address as on paid links, whoever's key calls.
            return limited;
        }
        if (!settle)
        {
            var verify = await facilitator.VerifyAsync(request, http.RequestAborted);
            return Results.Json(new { isValid = verify.IsValid, invalidReason = verify.InvalidReason, invalidMessage = verify.InvalidMessage, payer }, Wire);
        }
        // Only a transaction this call broadcast costs our gas (a retry of a settled authorization reports the old one).
        string? broadcast = null;
        var outcome = await facilitator.SettleAsync(request with
        {
            OnSubmitted = hash =>
            {
                broadcast = hash;
                return Task.CompletedTask;
            },
        }, http.RequestAborted);
        if (broadcast is not null && network is not null)
        {
            await service.Gas.RecordAsync(caller, network, broadcast, CancellationToken.None);
        }
        return Results.Json(new
        {
            success = outcome.Success,
            errorReason = outcome.Success ? null : outcome.ErrorReason,
            errorMessage = outcome.Success ? null : outcome.ErrorMessage,
            payer = outcome.Payer,
            transaction = outcome.Success ? outcome.Transaction : "",
            network = outcome.Network ?? (request.PaymentRequirements["network"] is JsonValue n && n.TryGetValue<string>(out var name) ? name : ""),
        }, Wire);
    }

    private static IResult Unavailable() =>
        Problem.Of(StatusCodes.Status404NotFound, "facilitator_not_enabled", "This deployment has no built-in facilitator (no gas wallet configured).");
}
