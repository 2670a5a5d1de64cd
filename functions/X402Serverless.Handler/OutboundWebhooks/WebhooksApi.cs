using Microsoft.AspNetCore.Http.HttpResults;
using X402Serverless.Core.Links;
using X402Serverless.Core.OutboundWebhooks;
using X402Serverless.Handler.Management;
using X402Serverless.Handler.Problems;
using X402Serverless.Handler.Requests;

namespace X402Serverless.Handler.OutboundWebhooks;

/// <summary>/api/webhooks: the caller's organisation's webhook endpoints, their secrets and their delivery log.</summary>
internal static class WebhooksApi
{
    public static void MapWebhooksApi(this RouteGroupBuilder api)
    {
        var hooks = api.MapGroup("/webhooks");
        hooks.MapPost("", CreateAsync);
        hooks.MapGet("", ListAsync);
        hooks.MapGet("/{id}", GetAsync);
        hooks.MapPatch("/{id}", UpdateAsync);
        hooks.MapDelete("/{id}", DeleteAsync);
        hooks.MapPost("/{id}/secrets", RotateAsync);
        hooks.MapPost("/{id}/test", TestAsync);
        hooks.MapGet("/{id}/deliveries", DeliveriesAsync);
        hooks.MapGet("/{id}/deliveries/{deliveryId}", DeliveryAsync);
        hooks.MapPost("/{id}/deliveries/{deliveryId}/redeliver", RedeliverAsync);
    }

    private static async Task<Results<Created<WebhookSecretIssued>, ProblemHttpResult>> CreateAsync(HttpContext http, WebhookEndpointEditor editor, TimeProvider time)
    {
        var (request, errors) = await JsonContract.ReadAsync(http.Request, ApiJson.Default.WebhookEndpointRequest, http.RequestAborted);
        if (request is null)
        {
            return Invalid(errors);
        }
        var (endpoint, secret, invalid) = await editor.CreateAsync(CallerContext.Of(http).Organisation.Id, request, http.RequestAborted);
        if (endpoint is null)
        {
            return invalid is [{ Code: "too_many_endpoints" } only]
                ? Problem.Typed(StatusCodes.Status409Conflict, only.Code, "Too many webhook endpoints.", only.Message)
                : Invalid(invalid);
        }
        return TypedResults.Created($"/api/webhooks/{endpoint.Id}", new WebhookSecretIssued(WebhookEndpointView.From(endpoint, time.GetUtcNow()), secret!));
    }

    private static async Task<Ok<ItemList<WebhookEndpointView>>> ListAsync(HttpContext http, WebhookEndpointEditor editor, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var endpoints = await editor.Store.ListAsync(CallerContext.Of(http).Organisation.Id, http.RequestAborted);
        return TypedResults.Ok(new ItemList<WebhookEndpointView>(endpoints.Select(e => WebhookEndpointView.From(e, now))));
    }

    private static async Task<Results<Ok<WebhookEndpointView>, ProblemHttpResult>> GetAsync(string id, HttpContext http, WebhookEndpointEditor editor, TimeProvider time) =>
        await FindAsync(id, http, editor) is { } endpoint ? TypedResults.Ok(WebhookEndpointView.From(endpoint, time.GetUtcNow())) : NotFound();

    private static async Task<Results<Ok<WebhookEndpointView>, ProblemHttpResult>> UpdateAsync(string id, HttpContext http, WebhookEndpointEditor editor, TimeProvider time)
    {
        if (await FindAsync(id, http, editor) is not { } endpoint)
        {
            return NotFound();
        }
        var (request, errors) = await JsonContract.ReadAsync(http.Request, ApiJson.Default.WebhookEndpointRequest, http.RequestAborted);
        if (request is null)
        {
            return Invalid(errors);
        }
        var (updated, invalid) = await editor.UpdateAsync(endpoint, request, http.RequestAborted);
        if (invalid.Count > 0)
        {
            return Invalid(invalid);
        }
        return updated is null ? NotFound() : TypedResults.Ok(WebhookEndpointView.From(updated, time.GetUtcNow()));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, HttpContext http, WebhookEndpointEditor editor) =>
        await editor.DeleteAsync(CallerContext.Of(http).Organisation.Id, id, http.RequestAborted) ? TypedResults.NoContent() : NotFound();

    private static async Task<Results<Created<WebhookSecretIssued>, ProblemHttpResult>> RotateAsync(string id, HttpContext http, WebhookEndpointEditor editor, TimeProvider time)
    {
        if (await FindAsync(id, http, editor) is not { } endpoint)
        {
            return NotFound();
        }
        var (updated, secret) = await editor.RotateAsync(endpoint, http.RequestAborted);
        return updated is null
            ? NotFound()
            : TypedResults.Created($"/api/webhooks/{id}", new WebhookSecretIssued(WebhookEndpointView.From(updated, time.GetUtcNow()), secret));
    }

    private static async Task<Results<Accepted<WebhookDeliveryView>, ProblemHttpResult>> TestAsync(string id, HttpContext http, WebhookEndpointEditor editor, WebhookEvents events)
    {
        if (await FindAsync(id, http, editor) is not { } endpoint)
        {
            return NotFound();
        }
        var delivery = await events.SendTestAsync(endpoint, http.RequestAborted);
        return TypedResults.Accepted($"/api/webhooks/{id}/deliveries/{delivery.Id}", WebhookDeliveryView.From(delivery));
    }

    private static async Task<Results<Ok<ItemList<WebhookDeliveryView>>, ProblemHttpResult>> DeliveriesAsync(string id, HttpContext http, WebhookEndpointEditor editor, string? limit)
    {
        var count = 50;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out count) || count is < 1 or > 200))
        {
            return Problem.Typed(StatusCodes.Status400BadRequest, "invalid_limit", "limit is a whole number between 1 and 200.");
        }
        if (await FindAsync(id, http, editor) is null)
        {
            return NotFound();
        }
        var deliveries = await editor.Store.ListDeliveriesAsync(id, count, http.RequestAborted);
        return TypedResults.Ok(new ItemList<WebhookDeliveryView>(deliveries.Select(WebhookDeliveryView.From)));
    }

    private static async Task<Results<Ok<WebhookDeliveryView>, ProblemHttpResult>> DeliveryAsync(string id, string deliveryId, HttpContext http, WebhookEndpointEditor editor) =>
        await FindDeliveryAsync(id, deliveryId, http, editor) is { } delivery ? TypedResults.Ok(WebhookDeliveryView.From(delivery)) : Problem.NotFound("Delivery");

    private static async Task<Results<Accepted<WebhookDeliveryView>, ProblemHttpResult>> RedeliverAsync(string id, string deliveryId, HttpContext http, WebhookEndpointEditor editor)
    {
        if (await FindDeliveryAsync(id, deliveryId, http, editor) is not { } delivery)
        {
            return Problem.NotFound("Delivery");
        }
        var again = await editor.RedeliverAsync(delivery, http.RequestAborted);
        return again is null
            ? Problem.Typed(StatusCodes.Status409Conflict, "delivery_in_progress", "The delivery is still being attempted.", "Redeliver it once it is delivered or failed.")
            : TypedResults.Accepted($"/api/webhooks/{id}/deliveries/{deliveryId}", WebhookDeliveryView.From(again));
    }

    private static Task<WebhookEndpoint?> FindAsync(string id, HttpContext http, WebhookEndpointEditor editor) =>
        editor.Store.GetAsync(CallerContext.Of(http).Organisation.Id, id, http.RequestAborted);

    // The endpoint is looked up under the caller's organisation first: a delivery id alone opens nothing.
    private static async Task<WebhookDelivery?> FindDeliveryAsync(string id, string deliveryId, HttpContext http, WebhookEndpointEditor editor) =>
        await FindAsync(id, http, editor) is null ? null : await editor.Store.GetDeliveryAsync(id, deliveryId, http.RequestAborted);

    private static ProblemHttpResult NotFound() => Problem.NotFound("Webhook endpoint");

    private static ProblemHttpResult Invalid(List<ValidationError> errors) => Problem.Invalid("The webhook endpoint is not valid.", errors);
}
