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
    protected override async Task<IAccessStore> StoreAsync()
    {
        var store = new TableAccessStore(azurite.Tables, AzuriteFixture.UniqueTable("orgs"), AzuriteFixture.UniqueTable("keys"));
        await store.InitializeAsync(default);
        return store;
    }
}
