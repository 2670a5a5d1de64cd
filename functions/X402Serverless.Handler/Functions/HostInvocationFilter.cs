using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Functions;

/// <summary>
/// The host's invocation routes run jobs and timers and tell a payment's status by id: they answer only under the
/// Functions host and only from loopback, where the host calls from. Anywhere else they do not exist (404).
/// </summary>
internal sealed class HostInvocationFilter(IConfiguration configuration) : IEndpointFilter
{
    private readonly bool _underHost = FunctionsHost.Port(configuration) is not null;

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        _underHost && FunctionsHost.IsLoopback(context.HttpContext.Connection.RemoteIpAddress)
            ? next(context)
            : ValueTask.FromResult<object?>(Problem.NotFound("Resource"));
}
