using System.Text;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Webhooks;

namespace X402Serverless.Core.Kyc;

/// <summary>
/// Applies a stored KYC decision to its subject. Redeliveries and out-of-order events are harmless: a record only
/// replaces an older decision.
/// </summary>
public sealed class KycEventProcessor(IWebhookInbox events, IKycStore kyc, IPayerStore payers, TimeProvider time) : InboxProcessor(events, time)
{
    public override string Source => WebhookSources.Kyc;

    protected override async Task<string> ApplyAsync(string payload, CancellationToken cancellationToken)
    {
        if (!KycEvent.TryParse(Encoding.UTF8.GetBytes(payload), out var e, out _))
        {
            return "invalid";
        }
        if (await payers.GetAsync(e!.Record.SubjectId, cancellationToken) is null)
        {
            return "unknown_subject";
        }
        return await kyc.SaveIfNewerAsync(e.Record, cancellationToken) ? e.Record.Status : "superseded";
    }
}
