using Microsoft.Extensions.Options;
using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Audit;

/// <summary>What was done, to what, and how the target looked before and after (JSON, secrets redacted).</summary>
internal sealed record AuditedAction(string Action, string TargetType, string? TargetId, string? Before, string? After, int Status);

/// <summary>
/// Writes audit entries: who (the actor), when (TimeProvider), from where (Front Door's client address when
/// trusted, else the connection's), and the outcome from the status. Only management requests come here.
/// </summary>
internal sealed class AuditRecorder(IAuditLog log, TimeProvider time, IOptions<GatewayOptions> options, ILogger<AuditRecorder> logger)
{
    private readonly bool _behindFrontDoor = !string.IsNullOrWhiteSpace(options.Value.FrontDoorId);

    public async Task RecordAsync(HttpContext http, string organisationId, AuditActor actor, AuditedAction action)
    {
        var now = time.GetUtcNow();
        var entry = new AuditEntry(AuditIds.New(now), organisationId, now, actor, action.Action, action.TargetType, action.TargetId,
            action.Before, action.After, ClientAddress.Of(http, _behindFrontDoor)?.ToString(), Outcome(action.Status), action.Status);
        try
        {
            // Not the request's token: an action that happened is recorded even if its caller hung up.
            await log.AppendAsync(entry, CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The action itself already happened; failing its answer now would only invite a retry that repeats it.
            logger.LogError(e, "Could not record audit entry {Action} on {TargetType} {TargetId} for {Organisation}.",
                action.Action, action.TargetType, action.TargetId, organisationId);
        }
    }

    public static string Outcome(int status) => status switch
    {
        >= 200 and < 400 => "succeeded",
        StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden => "denied",
        >= 500 => "error",
        _ => "failed",
    };
}
