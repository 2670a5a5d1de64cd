using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Money;
using X402Serverless.Core.OutboundWebhooks;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.OutboundWebhooks;

/// <summary>
/// Raises credits.low when a captured charge takes a payer's credits across the threshold (from above to at or under
/// it), so one crossing is one event. The balance is read only for an organisation with an endpoint for it: the paid
/// path of every other organisation does no extra store read.
/// </summary>
internal sealed partial class CreditsLowWatch(WebhookEndpointCache endpoints, ILedger ledger, WebhookEvents events, IOptions<OutboundWebhookOptions> options,
    ILogger<CreditsLowWatch> logger)
{
    private const string CreditsPrefix = "credits:";

    /// <summary>Never throws: the call was paid, and an event is not worth failing its answer.</summary>
    public async Task CapturedAsync(string organisationId, CreditHold hold, CancellationToken cancellationToken)
    {
        try
        {
            await CheckAsync(organisationId, hold, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.CheckFailed(logger, organisationId, e);
        }
    }

    private async Task CheckAsync(string organisationId, CreditHold hold, CancellationToken cancellationToken)
    {
        if (!hold.Source.StartsWith(CreditsPrefix, StringComparison.Ordinal)
            || (await endpoints.SubscribedAsync(organisationId, WebhookEventTypes.CreditsLow, cancellationToken)).Count == 0)
        {
            return;
        }
        var threshold = Usd.FromMicros(options.Value.CreditsLowMicros);
        var balance = await ledger.BalanceAsync(hold.Source, cancellationToken);
        if (balance <= threshold && balance + hold.Amount > threshold)
        {
            // The hold that crossed names the event: a second check of the same capture raises nothing new.
            await events.RaiseAsync(organisationId, WebhookEventTypes.CreditsLow, "hold:" + hold.Id, new JsonObject
            {
                ["payerId"] = hold.Source[CreditsPrefix.Length..],
                ["balanceUsd"] = balance.ToString(),
                ["thresholdUsd"] = threshold.ToString(),
            }, cancellationToken);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(145, LogLevel.Warning, "The credits.low check for organisation {OrganisationId} failed; no event raised.")]
        public static partial void CheckFailed(ILogger logger, string organisationId, Exception exception);
    }
}
