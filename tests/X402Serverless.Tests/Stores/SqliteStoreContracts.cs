using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Webhooks;
using X402Serverless.Sqlite;

namespace X402Serverless.Tests.Stores;

public sealed class SqliteLinkStoreTests : LinkStoreContract
{
    protected override async Task<ILinkStore> StoreAsync(params string[] organisations)
    {
        var database = new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db"));
        var access = new SqliteAccessStore(database);
        var now = DateTimeOffset.UnixEpoch;
        foreach (var org in organisations)
        {
            await access.CreateOrganisationAsync(new Organisation(org, org, false, now), new AccessKey("key_" + org, org, "p", "admin", now), "hash_" + org, default);
        }
        return new SqliteLinkStore(database);
    }
}

public sealed class SqliteAccessStoreTests : AccessStoreContract
{
    private string _path = "";

    protected override Task<IAccessStore> StoreAsync()
    {
        _path = Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db");
        return Task.FromResult<IAccessStore>(new SqliteAccessStore(new SqliteDatabase(_path)));
    }

    protected override async Task AddLegacyKeyAsync(IAccessStore store, string organisationId, string keyId, string keyHash)
    {
        await using var database = new SqliteDatabase(_path);
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO access_keys (id, organisation_id, key_hash, prefix, role, created_at) VALUES ($id, $org, $hash, 'x402sk_old', '', '2026-01-01T00:00:00.0000000Z');";
        command.Parameters.AddWithValue("$id", keyId);
        command.Parameters.AddWithValue("$org", organisationId);
        command.Parameters.AddWithValue("$hash", keyHash);
        await command.ExecuteNonQueryAsync();
    }
}

public sealed class SqliteAuditLogTests : AuditLogContract
{
    private string _path = "";

    protected override Task<IAuditLog> LogAsync()
    {
        _path = Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db");
        return Task.FromResult<IAuditLog>(new SqliteAuditLog(new SqliteDatabase(_path)));
    }

    [Fact]
    public async Task Entries_cannot_be_changed_or_deleted_even_by_sql()
    {
        var log = await LogAsync();
        await log.AppendAsync(Entry("org_a", DateTimeOffset.UnixEpoch, "link.create"), default);
        await using var database = new SqliteDatabase(_path);
        await using var connection = database.Open();
        foreach (var sql in new[] { "UPDATE audit_entries SET action = 'x';", "DELETE FROM audit_entries;" })
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            var refused = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => command.ExecuteNonQueryAsync());
            Assert.Contains("append-only", refused.Message, StringComparison.Ordinal);
        }
        Assert.Single((await log.ListAsync("org_a", new(), default)).Entries);
    }
}

public sealed class SqlitePayerStoreTests : PayerStoreContract
{
    protected override async Task<IPayerStore> StoreAsync(params string[] organisations)
    {
        var database = new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db"));
        var access = new SqliteAccessStore(database);
        foreach (var org in organisations)
        {
            await access.CreateOrganisationAsync(new Organisation(org, org, false, DateTimeOffset.UnixEpoch), new AccessKey("key_" + org, org, "p", "admin", DateTimeOffset.UnixEpoch), "hash_" + org, default);
        }
        return new SqlitePayerStore(database);
    }
}

public sealed class SqliteWebhookInboxTests : WebhookInboxContract
{
    protected override Task<(IWebhookInbox Stripe, IWebhookInbox Kyc)> InboxesAsync()
    {
        var database = new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db"));
        return Task.FromResult<(IWebhookInbox, IWebhookInbox)>((new SqliteWebhookInbox(database, WebhookSources.Stripe), new SqliteWebhookInbox(database, WebhookSources.Kyc)));
    }
}

public sealed class SqliteUsageStoreTests : UsageStoreContract
{
    protected override Task<IUsageStore> StoreAsync() =>
        Task.FromResult<IUsageStore>(new SqliteUsageStore(new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db"))));
}

public sealed class SqliteLinkHealthStoreTests : LinkHealthStoreContract
{
    protected override Task<ILinkHealthStore> StoreAsync() =>
        Task.FromResult<ILinkHealthStore>(new SqliteLinkHealthStore(new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db"))));
}

public sealed class SqliteKycStoreTests : KycStoreContract
{
    protected override Task<IKycStore> StoreAsync() =>
        Task.FromResult<IKycStore>(new SqliteKycStore(new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db"))));
}

public sealed class SqlitePaymentStoreTests : PaymentStoreContract
{
    protected override Task<IPaymentStore> StoreAsync() =>
        Task.FromResult<IPaymentStore>(new SqlitePaymentStore(new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db"))));
}

public sealed class SqlitePaymentStateMachineTests : PaymentStateMachineContract
{
    // One database for the class: each case works on a payment of its own.
    private readonly SqlitePaymentStore _store = new(new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db")));

    protected override Task<IPaymentStore> StoreAsync() => Task.FromResult<IPaymentStore>(_store);
}

public sealed class SqliteInboxMessageStoreTests : InboxMessageStoreContract
{
    private static SqliteDatabase NewDatabase() => new(Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db"));

    protected override Task<IInboxMessageStore> StoreAsync() => Task.FromResult<IInboxMessageStore>(new SqliteInboxMessageStore(NewDatabase()));

    protected override async Task<ILinkStore> LinkStoreAsync(string organisation)
    {
        var database = NewDatabase();
        var now = DateTimeOffset.UnixEpoch;
        await new SqliteAccessStore(database).CreateOrganisationAsync(
            new Organisation(organisation, organisation, false, now), new AccessKey("key_" + organisation, organisation, "p", "admin", now), "hash_" + organisation, default);
        return new SqliteLinkStore(database);
    }
}

public sealed class SqliteWebhookEndpointStoreTests : WebhookEndpointStoreContract
{
    protected override Task<IWebhookEndpointStore> StoreAsync() =>
        Task.FromResult<IWebhookEndpointStore>(new SqliteWebhookEndpointStore(new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db"))));

    [Fact]
    public async Task A_delivery_stored_before_the_upgrade_is_linked_to_its_event_so_retention_keeps_the_event()
    {
        var path = Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db");
        var at = new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var org = "org_" + Guid.NewGuid().ToString("N")[..10];
        var e = new Core.OutboundWebhooks.WebhookEvent("evt_" + Guid.NewGuid().ToString("N"), org, "payment.settled", "{}", at);
        var delivery = new Core.OutboundWebhooks.WebhookDelivery
        {
            Id = Core.OutboundWebhooks.WebhookIds.Delivery(e, "whe_1"), EndpointId = "whe_1", OrganisationId = org, EventId = e.Id, EventType = e.Type,
            Payload = e.Payload, Status = Core.OutboundWebhooks.DeliveryStatuses.Pending, NextAttemptAt = at, CreatedAt = at, UpdatedAt = at,
        };
        await using (var database = new SqliteDatabase(path))
        {
            var store = new SqliteWebhookEndpointStore(database);
            await store.AddEventAsync(e, default);
            await store.AddDeliveriesAsync([delivery], default);
            // Back to the schema before retention: the delivery row as an older version wrote it, without its event's id.
            await using var connection = database.Open();
            await using var command = connection.CreateCommand();
            command.CommandText = """
                DROP INDEX webhook_deliveries_by_event; DROP INDEX webhook_deliveries_ended; DROP INDEX webhook_events_by_time;
                ALTER TABLE webhook_deliveries DROP COLUMN event_id;
                """;
            await command.ExecuteNonQueryAsync();
            // Then the retention migration over that row, as the upgrade ran it.
            command.CommandText = Assert.Single(SqliteSchema.Migrations, m => m.Contains("CREATE INDEX webhook_deliveries_by_event", StringComparison.Ordinal));
            await command.ExecuteNonQueryAsync();
        }
        await using var upgraded = new SqliteDatabase(path);
        var again = new SqliteWebhookEndpointStore(upgraded);
        await again.PurgeAsync(at.AddYears(1), 100, default);
        // Still pending, so neither it nor its event goes.
        Assert.NotNull(await again.GetDeliveryAsync("whe_1", delivery.Id, default));
        Assert.Equal("{}", (await again.AddEventAsync(e with { Payload = "{\"again\":1}" }, default)).Payload);
    }
}
