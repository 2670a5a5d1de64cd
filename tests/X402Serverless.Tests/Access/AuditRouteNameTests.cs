using Microsoft.AspNetCore.Routing.Patterns;
using X402Serverless.Handler.Audit;

namespace X402Serverless.Tests.Access;

/// <summary>Audited actions are named from their routes: what an auditor filters by must read as what was done.</summary>
public sealed class AuditRouteNameTests
{
    [Theory]
    [InlineData("/api/links", "POST", "link.create", "link", null)]
    [InlineData("/api/links/{id}", "PATCH", "link.update", "link", "id")]
    [InlineData("/api/payers/{id}/keys/{keyId}", "DELETE", "payer.key.delete", "payer.key", "keyId")]
    [InlineData("/api/payers/{id}/keys", "POST", "payer.key.create", "payer.key", null)]
    [InlineData("/api/links/import", "POST", "link.import", "link.import", null)]
    [InlineData("/api/links/{id}/passes/{passId}/revoke", "POST", "link.pass.revoke", "link.pass", "passId")]
    [InlineData("/api/webhooks/{id}/deliveries/{deliveryId}/redeliver", "POST", "webhook.delivery.redeliver", "webhook.delivery", "deliveryId")]
    [InlineData("/api/webhooks/{id}/test", "POST", "webhook.test", "webhook", "id")]
    [InlineData("/api/links/{id}/messages/{receipt}/refund", "POST", "link.message.refund", "link.message", "receipt")]
    [InlineData("/api/organisation/budget", "PUT", "organisation.budget.update", "organisation.budget", null)]
    public void An_action_is_named_for_its_target_and_verb(string route, string method, string action, string targetType, string? parameter)
    {
        Assert.Equal((action, targetType, parameter), AuditRoutes.Describe(RoutePatternFactory.Parse(route), method));
    }
}
