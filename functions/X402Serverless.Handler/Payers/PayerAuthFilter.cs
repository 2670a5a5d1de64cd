using X402Serverless.Core.Access;
using X402Serverless.Core.Payers;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Payers;

/// <summary>Authenticates /api/me calls with a payer key.</summary>
internal sealed class PayerAuthFilter(IPayerStore payers) : IEndpointFilter
{
    private const string ItemKey = "x402.payer";

    public static Payer Of(HttpContext http) => (Payer)http.Items[ItemKey]!;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var key = PayerKeys.FromRequest(http.Request);
        var payer = key is null ? null : await payers.FindByKeyHashAsync(ManagementKeys.Hash(key), http.RequestAborted);
        if (payer is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Problem.Of(StatusCodes.Status401Unauthorized, "unauthorized", "Send 'Authorization: Bearer <payer key>'.");
        }
        http.Items[ItemKey] = payer;
        return await next(context);
    }
}
