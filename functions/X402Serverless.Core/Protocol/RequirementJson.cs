using System.Globalization;
using System.Text.Json.Nodes;

namespace X402Serverless.Core.Protocol;

/// <summary>The wire shapes of a requirement: a v2 accepts[] entry (exactly seven fields) and a v1 entry.</summary>
public static class RequirementJson
{
    public static JsonObject V2(PaymentRequirement r) => new()
    {
        ["scheme"] = PaymentRequirement.Scheme,
        ["network"] = r.Network.Id,
        ["amount"] = r.Amount.ToString(),
        ["asset"] = r.Network.Asset.ToString(),
        ["payTo"] = r.PayTo.ToString(),
        ["maxTimeoutSeconds"] = r.MaxTimeoutSeconds,
        ["extra"] = Extra(r),
    };

    /// <summary>
    /// The v1 entry, or null when the chain has no v1 name (v1 clients only know named networks). Its outputSchema is
    /// the listed link's discovery (v1 Bazaar) when given; otherwise it says the resource is not discoverable, so a v1
    /// facilitator does not catalogue an unlisted link.
    /// </summary>
    public static JsonObject? V1(PaymentRequirement r, string resource, string description, string mimeType, string method, JsonObject? outputSchema = null)
    {
        // v1 clients sign only EIP-3009 authorizations.
        if (r.Network.V1Name is null || r.Permit2)
        {
            return null;
        }
        return new JsonObject
        {
            ["scheme"] = PaymentRequirement.Scheme,
            ["network"] = r.Network.V1Name,
            ["maxAmountRequired"] = r.Amount.ToString(),
            ["resource"] = resource,
            ["description"] = description,
            ["mimeType"] = mimeType,
            ["payTo"] = r.PayTo.ToString(),
            ["maxTimeoutSeconds"] = r.MaxTimeoutSeconds,
            ["asset"] = r.Network.Asset.ToString(),
            ["outputSchema"] = outputSchema ?? new JsonObject
            {
                ["input"] = new JsonObject { ["type"] = "http", ["method"] = method, ["discoverable"] = false },
            },
            ["extra"] = Extra(r),
        };
    }

    private static JsonObject Extra(PaymentRequirement r)
    {
        var extra = new JsonObject
        {
            ["name"] = r.Network.Domain.Name,
            ["version"] = r.Network.Domain.Version,
        };
        if (r.Permit2)
        {
            extra["assetTransferMethod"] = Evm.Permit2Contracts.TransferMethod;
        }
        return extra;
    }
}
