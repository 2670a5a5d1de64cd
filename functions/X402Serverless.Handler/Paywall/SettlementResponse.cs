using System.Text;
using System.Text.Json.Nodes;
using X402Serverless.Core.Facilitation;

namespace X402Serverless.Handler.Paywall;

/// <summary>The PAYMENT-RESPONSE / X-PAYMENT-RESPONSE value: base64 of the settle response.</summary>
internal static class SettlementResponse
{
    public static string Encode(SettleOutcome outcome, string network, string payer)
    {
        var json = new JsonObject
        {
            ["success"] = outcome.Success,
            ["transaction"] = outcome.Transaction ?? "",
            ["network"] = network,
            ["payer"] = outcome.Payer ?? payer,
        };
        if (!outcome.Success && outcome.ErrorReason is not null)
        {
            json["errorReason"] = outcome.ErrorReason;
        }
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(json.ToJsonString()));
    }

    public static string HeaderName(int version) => version == 1 ? PaymentHeaders.ResponseV1 : PaymentHeaders.ResponseV2;
}
