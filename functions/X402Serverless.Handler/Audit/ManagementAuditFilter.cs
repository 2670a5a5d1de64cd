using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using X402Serverless.Core.Access;
using X402Serverless.Handler.Management;

namespace X402Serverless.Handler.Audit;

/// <summary>
/// Records every management request that could change something (any method but GET, HEAD and OPTIONS) in the
/// caller's organisation's audit log, refused ones included. Runs after the key is checked and before its role is,
/// so a key trying what its role forbids is recorded as denied. The paid path never passes here.
/// </summary>
internal sealed class ManagementAuditFilter(AuditRecorder recorder) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var method = http.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method))
        {
            return await next(context);
        }
        var caller = CallerContext.Of(http);
        var organisationId = caller.Organisation.Id;
        var (action, targetType, targetParameter) = AuditRoutes.Describe((http.GetEndpoint() as RouteEndpoint)?.RoutePattern, method);
        var targetId = targetParameter is not null ? http.Request.RouteValues[targetParameter]?.ToString() : null;
        var before = await AuditSnapshots.TakeAsync(http, organisationId, targetType, targetId);

        object? result;
        try
        {
            result = await next(context);
        }
        catch
        {
            await recorder.RecordAsync(http, organisationId, AuditActor.OfKey(caller.Key),
                new AuditedAction(action, targetType, targetId, AuditRedaction.Serialize(before), null, StatusCodes.Status500InternalServerError));
            throw;
        }

        var status = StatusOf(result) ?? http.Response.StatusCode;
        JsonNode? after = null;
        if (status is >= 200 and < 300 && !HttpMethods.IsDelete(method))
        {
            after = ValueOf(result) is { } value and not ProblemDetails
                ? AuditSnapshots.ToNode(http, value)
                : await AuditSnapshots.TakeAsync(http, organisationId, targetType, targetId);
            targetId ??= IdOf(after);
        }
        await recorder.RecordAsync(http, organisationId, AuditActor.OfKey(caller.Key),
            new AuditedAction(action, targetType, targetId, AuditRedaction.Serialize(before), AuditRedaction.Serialize(after), status));
        return result;
    }

    private static object? Unwrap(object? result)
    {
        while (result is INestedHttpResult nested)
        {
            result = nested.Result;
        }
        return result;
    }

    private static int? StatusOf(object? result) => Unwrap(result) is IStatusCodeHttpResult s ? s.StatusCode ?? StatusCodes.Status200OK : null;

    private static object? ValueOf(object? result) => Unwrap(result) is IValueHttpResult v ? v.Value : null;

    /// <summary>A created target's id: the answer's "id", or that of the object it wraps (an issued payer and its key).</summary>
    private static string? IdOf(JsonNode? node) =>
        node is not JsonObject obj ? null
        : obj["id"] is JsonValue id && id.TryGetValue<string>(out var s) ? s
        : obj.Select(p => p.Value).OfType<JsonObject>().Select(o => o["id"]).OfType<JsonValue>()
            .Select(v => v.TryGetValue<string>(out var inner) ? inner : null).FirstOrDefault(v => v is not null);
}
