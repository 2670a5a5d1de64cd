using System.Text.Json;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Settlement;

namespace X402Serverless.Handler.Functions;

/// <summary>
/// POST /SettlementJob: the Service Bus-triggered settlement function in Azure. The message is {"paymentId":"..."};
/// a job that is not finished answers 500 so the host redelivers it (and dead-letters it past MaxDeliveryCount).
/// </summary>
internal static class SettlementJobFunction
{
    public const string Name = "SettlementJob";
    public const string Binding = "job";

    public static void Map(IEndpointRouteBuilder app) => app.MapPost($"/{Name}", HandleAsync);

    private static async Task<IResult> HandleAsync(HttpContext http, IPaymentStore payments, SettlementProcessor processor)
    {
        var message = await InvocationRequest.ReadBindingAsync(http.Request, Binding, http.RequestAborted);
        if (message is not { ValueKind: JsonValueKind.Object } m || !m.TryGetProperty("paymentId", out var idEl) || idEl.ValueKind != JsonValueKind.String)
        {
            // A malformed message will never succeed: complete it (200) with a log line rather than retry it forever.
            return Reply("Ignored a settlement message without a paymentId.");
        }
        var id = idEl.GetString()!;
        var job = await payments.GetAsync(id, http.RequestAborted);
        if (job is null || job.Status is PaymentStatus.Settled or PaymentStatus.Failed or PaymentStatus.Expired)
        {
            return Reply($"Payment {id} needs no settlement ({job?.Status.ToString() ?? "unknown"}).");
        }
        if (job.Status != PaymentStatus.Pending)
        {
            return Results.Json(Body($"Payment {id} is {job.Status}; retry later."), statusCode: 500);
        }
        // A final outcome's webhook event is stored before the outcome, so before the message is acknowledged.
        var result = await processor.RunAsync(job, inline: false, http.RequestAborted);
        var line = $"Payment {id}: {result.Kind} {result.Transaction ?? result.Reason}";
        return result.Kind == SettlementOutcomeKind.Retrying ? Results.Json(Body(line), statusCode: 500) : Reply(line);
    }

    private static IResult Reply(string log) => Results.Json(Body(log));

    private static Dictionary<string, object?> Body(string log) => new Dictionary<string, object?>
    {
        ["Outputs"] = new Dictionary<string, object?>(),
        ["Logs"] = new[] { log },
        ["ReturnValue"] = null,
    };
}
