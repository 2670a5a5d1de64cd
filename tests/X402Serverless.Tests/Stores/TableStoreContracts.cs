using X402Serverless.AzureStorage;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Stores;

public sealed class TableLinkStoreTests(AzuriteFixture azurite) : LinkStoreContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<ILinkStore> StoreAsync(params string[] organisations)
    {
        var store = new TableLinkStore(azurite.Tables, AzuriteFixture.UniqueTable("links"));
        await store.InitializeAsync(default);
        return store;
    }
}

public sealed class TableAccessStoreTests(AzuriteFixture azurite) : AccessStoreContract, IClassFixture<AzuriteFixture>
{
    private string _keysTable = "";

    protected override async Task<IAccessStore> StoreAsync()
    {
        _keysTable = AzuriteFixture.UniqueTable("keys");
        var store = new TableAccessStore(azurite.Tables, AzuriteFixture.UniqueTable("orgs"), _keysTable);
        await store.InitializeAsync(default);
        return store;
    }

    protected override async Task AddLegacyKeyAsync(IAccessStore store, string organisationId, string keyId, string keyHash) =>
        await azurite.Tables.GetTableClient(_keysTable).AddEntityAsync(new Azure.Data.Tables.TableEntity(keyHash, "item")
        {
            ["KeyId"] = keyId,
            ["OrganisationId"] = organisationId,
            ["Prefix"] = "x402sk_old",
            ["CreatedAt"] = "2026-01-01T00:00:00.0000000Z",
        });
}

public sealed class TableAuditLogTests(AzuriteFixture azurite) : AuditLogContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<IAuditLog> LogAsync()
    {
        var log = new TableAuditLog(azurite.Tables, AzuriteFixture.UniqueTable("audit"));
        await log.InitializeAsync(default);
        return log;
    }
}

public sealed class TablePayerStoreTests(AzuriteFixture azurite) : PayerStoreContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<IPayerStore> StoreAsync(params string[] organisations)
    {
        var store = new TablePayerStore(azurite.Tables, AzuriteFixture.UniqueTable("payers"), AzuriteFixture.UniqueTable("pkeys"), AzuriteFixture.UniqueTable("budgets"));
        await store.InitializeAsync(default);
        return store;
    }
}

public sealed class TableWebhookInboxTests(AzuriteFixture azurite) : WebhookInboxContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<(IWebhookInbox Stripe, IWebhookInbox Kyc)> InboxesAsync()
    {
        var stripe = new TableWebhookInbox(azurite.Tables, AzuriteFixture.UniqueTable("stripeevents"));
        var kyc = new TableWebhookInbox(azurite.Tables, AzuriteFixture.UniqueTable("kycevents"));
        await stripe.InitializeAsync(default);
        await kyc.InitializeAsync(default);
        return (stripe, kyc);
    }
}

public sealed class TableUsageStoreTests(AzuriteFixture azurite) : UsageStoreContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<IUsageStore> StoreAsync()
    {
        var store = new TableUsageStore(azurite.Tables, AzuriteFixture.UniqueTable("usage"));
        await store.InitializeAsync(default);
        return store;
    }
}

public sealed class TableLinkHealthStoreTests(AzuriteFixture azurite) : LinkHealthStoreContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<ILinkHealthStore> StoreAsync()
    {
        var store = new TableLinkHealthStore(azurite.Tables, AzuriteFixture.UniqueTable("linkhealth"));
        await store.InitializeAsync(default);
        return store;
    }
}

public sealed class TableKycStoreTests(AzuriteFixture azurite) : KycStoreContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<IKycStore> StoreAsync()
    {
        var store = new TableKycStore(azurite.Tables, AzuriteFixture.UniqueTable("kycrecords"), AzuriteFixture.UniqueTable("kycwallets"));
        await store.InitializeAsync(default);
        return store;
    }
}

public sealed class TablePaymentStoreTests(AzuriteFixture azurite) : PaymentStoreContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<IPaymentStore> StoreAsync()
    {
        var store = new TablePaymentStore(azurite.Tables, AzuriteFixture.UniqueTable("payments"));
        await store.InitializeAsync(default);
        return store;
    }
}

public sealed class TablePaymentStateMachineTests(AzuriteFixture azurite) : PaymentStateMachineContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<IPaymentStore> StoreAsync()
    {
        var store = new TablePaymentStore(azurite.Tables, AzuriteFixture.UniqueTable("payments"));
        await store.InitializeAsync(default);
        return store;
    }
}

public sealed class TableInboxMessageStoreTests(AzuriteFixture azurite) : InboxMessageStoreContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<IInboxMessageStore> StoreAsync()
    {
        var store = new TableInboxMessageStore(azurite.Tables, AzuriteFixture.UniqueTable("inboxmessages"));
        await store.InitializeAsync(default);
        return store;
    }

    protected override async Task<ILinkStore> LinkStoreAsync(string organisation)
    {
        var store = new TableLinkStore(azurite.Tables, AzuriteFixture.UniqueTable("links"));
        await store.InitializeAsync(default);
        return store;
    }
}

public sealed class TableWebhookEndpointStoreTests(AzuriteFixture azurite) : WebhookEndpointStoreContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<IWebhookEndpointStore> StoreAsync()
    {
        var store = new TableWebhookEndpointStore(azurite.Tables, AzuriteFixture.UniqueTable("whendpoints"), AzuriteFixture.UniqueTable("whdeliveries"),
            AzuriteFixture.UniqueTable("whevents"));
        await store.InitializeAsync(default);
        return store;
    }
}
