using Azure.Identity;
using X402Serverless.AzureStorage;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Webhooks;
using X402Serverless.Sqlite;

namespace X402Serverless.Handler.Hosting;

/// <summary>Registers the store adapters configuration chooses: SQLite on one file, or Table Storage.</summary>
internal static class StoreServices
{
    public static void AddStores(this IServiceCollection services, GatewayOptions options, string dataDirectory)
    {
        var storage = options.Storage;
        if (!string.Equals(storage.Kind, StorageOptions.Table, StringComparison.OrdinalIgnoreCase))
        {
            services.AddSingleton(_ => new SqliteDatabase(Path.Combine(dataDirectory, "x402.db")));
            services.AddSingleton<ILinkStore, SqliteLinkStore>();
            services.AddSingleton<IAccessStore, SqliteAccessStore>();
            services.AddSingleton<IPaymentStore, SqlitePaymentStore>();
            services.AddSingleton<ILedger, SqliteLedger>();
            // This process is the file's only writer, so its cache of payer keys is emptied by every change (Table
            // Storage may have other instances revoking keys, so it reads the store on each call).
            services.AddSingleton<IPayerStore>(sp => new Payers.CachedPayerStore(
                ActivatorUtilities.CreateInstance<SqlitePayerStore>(sp), sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<IKycStore, SqliteKycStore>();
            services.AddSingleton<IUsageStore, SqliteUsageStore>();
            services.AddSingleton<ISignupStore, SqliteSignupStore>();
            services.AddSingleton<ILinkHealthStore, SqliteLinkHealthStore>();
            services.AddSingleton<IPaymentIdentifierStore, SqlitePaymentIdentifierStore>();
            services.AddSingleton<ITransferClaimStore, SqliteTransferClaimStore>();
            services.AddSingleton<IInboxMessageStore, SqliteInboxMessageStore>();
            services.AddSingleton<IAuditLog, SqliteAuditLog>();
            services.AddSingleton<IPassStore, SqlitePassStore>();
            services.AddSingleton<ICardTopUpStore, SqliteCardTopUpStore>();
            services.AddSingleton<ICardChargeStore, SqliteCardChargeStore>();
            services.AddSingleton<IWebhookEndpointStore, SqliteWebhookEndpointStore>();
            foreach (var source in WebhookSources.All)
            {
                services.AddKeyedSingleton<IWebhookInbox>(source, (sp, _) => ActivatorUtilities.CreateInstance<SqliteWebhookInbox>(sp, source));
            }
            services.AddSingleton<IStoreInitializer>(new NoInitialization());
            return;
        }
        if (string.IsNullOrWhiteSpace(storage.TableEndpoint))
        {
            throw new InvalidOperationException("X402:Storage:TableEndpoint is required when X402:Storage:Kind is \"table\".");
        }
        var endpoint = new Uri(storage.TableEndpoint);
        var client = TableStorage.Connect(endpoint, storage.AccountName, storage.AccountKey, new DefaultAzureCredential());
        var p = storage.TablePrefix;
        var links = new TableLinkStore(client, p + "links");
        var access = new TableAccessStore(client, p + "organisations", p + "accesskeys");
        var payments = new TablePaymentStore(client, p + "payments");
        var payers = new TablePayerStore(client, p + "payers", p + "payerkeys", p + "budgets");
        var stripeEvents = new TableWebhookInbox(client, p + "stripeevents");
        var kycEvents = new TableWebhookInbox(client, p + "kycevents");
        var kyc = new TableKycStore(client, p + "kycrecords", p + "kycwallets");
        var usage = new TableUsageStore(client, p + "usagedaily");
        var signup = new TableSignupStore(client, p + "signupnonces", p + "walletbindings");
        var linkHealth = new TableLinkHealthStore(client, p + "linkhealth");
        var messages = new TableInboxMessageStore(client, p + "inboxmessages");
        services.AddSingleton<ILinkStore>(links);
        services.AddSingleton<IAccessStore>(access);
        services.AddSingleton<IPaymentStore>(payments);
        services.AddSingleton<IPayerStore>(payers);
        services.AddKeyedSingleton<IWebhookInbox>(WebhookSources.Stripe, stripeEvents);
        services.AddKeyedSingleton<IWebhookInbox>(WebhookSources.Kyc, kycEvents);
        services.AddSingleton<IKycStore>(kyc);
        services.AddSingleton<IUsageStore>(usage);
        services.AddSingleton<ISignupStore>(signup);
        services.AddSingleton<ILinkHealthStore>(linkHealth);
        services.AddSingleton<IInboxMessageStore>(messages);
        var audit = new TableAuditLog(client, p + "auditentries");
        services.AddSingleton<IAuditLog>(audit);
        var webhookEndpoints = new TableWebhookEndpointStore(client, p + "webhookendpoints", p + "webhookdeliveries", p + "webhookevents");
        services.AddSingleton<IWebhookEndpointStore>(webhookEndpoints);
        var paymentIdentifiers = new TablePaymentIdentifierStore(client, p + "paymentidentifiers");
        services.AddSingleton<IPaymentIdentifierStore>(paymentIdentifiers);
        var transferClaims = new TableTransferClaimStore(client, p + "transferclaims");
        services.AddSingleton<ITransferClaimStore>(transferClaims);
        var passes = new TablePassStore(client, p + "passes", p + "siwxnonces", p + "passcheckouts");
        services.AddSingleton<IPassStore>(passes);
        var cardTopUps = new TableCardTopUpStore(client, p + "cardtopups");
        services.AddSingleton<ICardTopUpStore>(cardTopUps);
        var cardCharges = new TableCardChargeStore(client, p + "cardcharges");
        services.AddSingleton<ICardChargeStore>(cardCharges);
        services.AddSingleton<ILedger>(sp => new TableLedger(client, sp.GetRequiredService<TimeProvider>(), p + "ledgerentries", p + "ledgeraccounts", p + "ledgercaps"));
        services.AddSingleton<IStoreInitializer>(sp => new TableInitialization(ct => Task.WhenAll(
            links.InitializeAsync(ct), access.InitializeAsync(ct), payments.InitializeAsync(ct), payers.InitializeAsync(ct),
            stripeEvents.InitializeAsync(ct), kycEvents.InitializeAsync(ct), kyc.InitializeAsync(ct), usage.InitializeAsync(ct), signup.InitializeAsync(ct),
            linkHealth.InitializeAsync(ct),
            paymentIdentifiers.InitializeAsync(ct), messages.InitializeAsync(ct), transferClaims.InitializeAsync(ct), audit.InitializeAsync(ct), passes.InitializeAsync(ct), cardTopUps.InitializeAsync(ct), cardCharges.InitializeAsync(ct), webhookEndpoints.InitializeAsync(ct),
            ((TableLedger)sp.GetRequiredService<ILedger>()).InitializeAsync(ct))));
    }
}

/// <summary>Creates what a store needs before the first request (Table Storage tables).</summary>
internal interface IStoreInitializer
{
    Task InitializeAsync(CancellationToken cancellationToken);
}

internal sealed class NoInitialization : IStoreInitializer
{
    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

internal sealed class TableInitialization(Func<CancellationToken, Task> initialize) : IStoreInitializer
{
    public Task InitializeAsync(CancellationToken cancellationToken) => initialize(cancellationToken);
}
