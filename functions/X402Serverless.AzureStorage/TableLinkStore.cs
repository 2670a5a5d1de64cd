using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Links;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.Tables.EntityFields;
using X402Serverless.Core.Money;

namespace X402Serverless.AzureStorage;

/// <summary>
/// Links in Table Storage: one partition per link (the paid path's lookup is a point read and hot links never share a
/// partition); organisation listings filter on OrganisationId. Changes are conditional on the ETag read.
/// </summary>
public sealed class TableLinkStore(TableServiceClient service, string tableName = "links") : ILinkStore
{
    private const string Row = "link";
    private readonly TableClient _table = service.GetTableClient(tableName);

    public Task InitializeAsync(CancellationToken cancellationToken) => _table.CreateIfNotExistsAsync(cancellationToken);

    public async Task CreateAsync(PaidLink link, CancellationToken cancellationToken) =>
        await _table.AddEntityAsync(ToEntity(link), cancellationToken);

    public async Task<PaidLink?> FindAsync(string id, CancellationToken cancellationToken) =>
        await _table.FindAsync(id, Row, cancellationToken) is { } found ? FromEntity(found) : null;

    public async Task<IReadOnlyList<PaidLink>> ListAsync(string organisationId, CancellationToken cancellationToken) =>
        (await _table.ListAsync(TableClient.CreateQueryFilter($"OrganisationId eq {organisationId}"), null, cancellationToken))
            .Select(FromEntity).OrderBy(l => l.CreatedAt).ThenBy(l => l.Id, StringComparer.Ordinal).ToList();

    // A scan across partitions: only the catalogue asks, and it keeps the answer in memory.
    public async Task<IReadOnlyList<PaidLink>> ListListedAsync(CancellationToken cancellationToken) =>
        (await _table.ListAsync("Listed eq true", null, cancellationToken))
            .Select(FromEntity).OrderBy(l => l.CreatedAt).ThenBy(l => l.Id, StringComparer.Ordinal).ToList();

    public async Task<bool> UpdateAsync(PaidLink link, CancellationToken cancellationToken)
    {
        var current = await _table.FindAsync(link.Id, Row, cancellationToken);
        if (current is null || Str(current, "OrganisationId") != link.OrganisationId)
        {
            return false;
        }
        try
        {
            await _table.UpdateEntityAsync(ToEntity(link), current.ETag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsNotFound())
        {
            return false; // changed or deleted meanwhile: the caller reads again
        }
    }

    public async Task<bool> DeleteAsync(string organisationId, string id, CancellationToken cancellationToken)
    {
        var current = await _table.FindAsync(id, Row, cancellationToken);
        if (current is null || Str(current, "OrganisationId") != organisationId)
        {
            return false;
        }
        try
        {
            // The SDK answers a missing entity with 404 instead of throwing: deleted meanwhile.
            return (await _table.DeleteEntityAsync(id, Row, current.ETag, cancellationToken)).Status != 404;
        }
        catch (RequestFailedException e) when (e.IsPreconditionFailed())
        {
            return false;
        }
    }

    private static TableEntity ToEntity(PaidLink l) => new(l.Id, Row)
    {
        ["OrganisationId"] = l.OrganisationId,
        ["Name"] = l.Name,
        ["Description"] = l.Description,
        ["Upstream"] = l.Upstream,
        ["Price"] = l.Price.ToString(),
        ["PayTo"] = l.PayTo,
        ["Networks"] = List(l.Networks),
        ["Methods"] = List(l.Methods),
        ["SealedUpstreamHeaders"] = l.SealedUpstreamHeaders,
        ["Settlement"] = l.Settlement,
        ["DeferredPayers"] = l.DeferredPayers,
        ["PriceRules"] = PriceRulesJson.Write(l.PriceRules),
        ["Facilitator"] = l.Facilitator,
        ["VerifyOnChain"] = l.VerifyOnChain,
        ["PaymentIdentifierRequired"] = l.PaymentIdentifierRequired,
        ["Accepts"] = List(l.Accepts),
        ["ChargeOn"] = l.ChargeOn,
        ["DailyCapPerPayer"] = Long(l.DailyCapPerPayer?.Micros),
        ["KycLevel"] = l.KycLevel,
        ["KycCountries"] = List(l.KycCountries),
        // The catalogue's filter reads this property: a disabled link is not listed while it is off.
        ["Listed"] = l.Public,
        ["Disabled"] = l.Disabled,
        ["Permit2Networks"] = List(l.Permit2Networks),
        ["Listing"] = LinkListingJson.Write(l.Listing),
        ["RateLimit"] = RateLimitJson.Write(l.RateLimit),
        ["Inbox"] = Core.Inbox.InboxJson.Write(l.Inbox),
        ["Pass"] = Core.Passes.PassOfferJson.Write(l.Pass),
        ["CreatedAt"] = Time(l.CreatedAt),
        ["UpdatedAt"] = Time(l.UpdatedAt),
    };

    private static PaidLink FromEntity(TableEntity e) => new()
    {
        Id = Str(e, "PartitionKey"),
        OrganisationId = Str(e, "OrganisationId"),
        Name = OptStr(e, "Name"),
        Description = OptStr(e, "Description"),
        Upstream = Str(e, "Upstream"),
        Price = Usd.Parse(Str(e, "Price")),
        PayTo = Str(e, "PayTo"),
        Networks = List(e, "Networks"),
        Methods = List(e, "Methods"),
        SealedUpstreamHeaders = OptStr(e, "SealedUpstreamHeaders"),
        Settlement = Str(e, "Settlement"),
        DeferredPayers = OptStr(e, "DeferredPayers") ?? DeferredPayers.Returning,
        PriceRules = PriceRulesJson.Read(OptStr(e, "PriceRules")),
        Facilitator = OptStr(e, "Facilitator"),
        VerifyOnChain = Bool(e, "VerifyOnChain"),
        PaymentIdentifierRequired = Bool(e, "PaymentIdentifierRequired"),
        Accepts = List(e, "Accepts"),
        ChargeOn = Str(e, "ChargeOn"),
        DailyCapPerPayer = OptLong(e, "DailyCapPerPayer") is { } cap ? Usd.FromMicros(cap) : null,
        KycLevel = OptStr(e, "KycLevel") ?? KycLevels.None,
        KycCountries = OptStr(e, "KycCountries") is null ? [] : List(e, "KycCountries"),
        Listing = LinkListingJson.Read(OptStr(e, "Listing")),
        RateLimit = RateLimitJson.Read(OptStr(e, "RateLimit")),
        Inbox = Core.Inbox.InboxJson.Read(OptStr(e, "Inbox")),
        Pass = Core.Passes.PassOfferJson.Read(OptStr(e, "Pass")),
        Disabled = Bool(e, "Disabled"),
        Permit2Networks = OptStr(e, "Permit2Networks") is null ? [] : List(e, "Permit2Networks"),
        CreatedAt = Time(e, "CreatedAt"),
        UpdatedAt = Time(e, "UpdatedAt"),
    };
}
