using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Management;
using X402Serverless.Handler.Payers;

namespace X402Serverless.Handler.Audit;

/// <summary>
/// How a target looks, as the API shows it, for an entry's "before" (and "after" when the answer carries no body).
/// Only the organisation's own targets are read; an unknown target type has no snapshot.
/// </summary>
internal static class AuditSnapshots
{
    public static async Task<JsonNode?> TakeAsync(HttpContext http, string organisationId, string targetType, string? id)
    {
        if (id is null)
        {
            return null;
        }
        var services = http.RequestServices;
        var ct = CancellationToken.None;
        object? view = targetType switch
        {
            "link" => await services.GetRequiredService<LinkServices>().FindOwnLinkAsync(organisationId, id, ct) is { } link
                ? LinkView.From(link, services.GetRequiredService<LinkServices>().Urls.LinkBaseUrl(http.Request))
                : null,
            "payer" => await services.GetRequiredService<IPayerStore>().GetAsync(id, ct) is { } payer && payer.OrganisationId == organisationId
                ? await services.GetRequiredService<PayerAccounts>().ViewAsync(payer, ct)
                : null,
            "key" => (await services.GetRequiredService<IAccessStore>().ListKeysAsync(organisationId, ct)).FirstOrDefault(k => k.Id == id) is { } key
                ? new KeyView(key.Id, key.Prefix, key.Role, key.Facilitator, key.CreatedAt, false)
                : null,
            _ => null,
        };
        return ToNode(http, view);
    }

    public static JsonNode? ToNode(HttpContext http, object? value) =>
        value is null ? null : JsonSerializer.SerializeToNode(value, value.GetType(),
            http.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions);
}
