using System.Globalization;
using Azure.Data.Tables;
using X402Serverless.Core.Money;
using X402Serverless.Core.Payments;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>
/// A payment's row in <see cref="TablePaymentStore"/>: partition = payment id, one row per partition. An empty string
/// (not an absent property) stands for "no lease" and "no next attempt", so the claim query can compare against it.
/// </summary>
internal static class TablePaymentEntities
{
    public const string Row = "item";

    public static TableEntity ToEntity(PaymentRecord p) => new(p.Id, Row)
    {
        ["LinkId"] = p.LinkId,
        ["OrganisationId"] = p.OrganisationId,
        ["Network"] = p.Network,
        ["Asset"] = p.Asset,
        ["Payer"] = p.Payer,
        ["PayTo"] = p.PayTo,
        ["Nonce"] = p.Nonce,
        ["Amount"] = p.Amount.ToString(),
        ["X402Version"] = p.X402Version,
        ["Status"] = p.Status.ToString(),
        ["Mode"] = p.Mode,
        ["Facilitator"] = p.Facilitator,
        ["SettleRequest"] = p.SettleRequest,
        ["ValidBefore"] = Long(p.ValidBefore),
        ["Attempts"] = p.Attempts,
        ["NextAttemptAt"] = p.NextAttemptAt is { } n ? Time(n) : "",
        ["LeaseUntil"] = "",
        ["LastError"] = p.LastError,
        ["Transaction"] = p.Transaction,
        ["FailureReason"] = p.FailureReason,
        ["ContentOwed"] = p.ContentOwed,
        ["Purpose"] = p.Purpose,
        ["CreatedAt"] = Time(p.CreatedAt),
        ["UpdatedAt"] = Time(p.UpdatedAt),
    };

    public static PaymentRecord FromEntity(TableEntity e) => new()
    {
        Id = Str(e, "PartitionKey"),
        LinkId = Str(e, "LinkId"),
        OrganisationId = Str(e, "OrganisationId"),
        Network = Str(e, "Network"),
        Asset = Str(e, "Asset"),
        Payer = Str(e, "Payer"),
        PayTo = Str(e, "PayTo"),
        Nonce = Str(e, "Nonce"),
        Amount = TokenAmount.Parse(Str(e, "Amount")),
        X402Version = OptInt(e, "X402Version") ?? 2,
        Status = Enum.Parse<PaymentStatus>(Str(e, "Status")),
        Mode = Str(e, "Mode"),
        Facilitator = Str(e, "Facilitator"),
        SettleRequest = OptStr(e, "SettleRequest"),
        ValidBefore = OptLong(e, "ValidBefore") ?? 0,
        Attempts = OptInt(e, "Attempts") ?? 0,
        NextAttemptAt = OptStr(e, "NextAttemptAt") is { Length: > 0 } n ? DateTimeOffset.Parse(n, CultureInfo.InvariantCulture) : null,
        LastError = OptStr(e, "LastError"),
        Transaction = OptStr(e, "Transaction") is { Length: > 0 } t ? t : null,
        FailureReason = OptStr(e, "FailureReason"),
        ContentOwed = Bool(e, "ContentOwed"),
        Purpose = OptStr(e, "Purpose") ?? PaymentPurposes.Content,
        CreatedAt = Time(e, "CreatedAt"),
        UpdatedAt = Time(e, "UpdatedAt"),
    };
}
