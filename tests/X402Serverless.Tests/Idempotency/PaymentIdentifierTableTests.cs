using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.Idempotency;

/// <summary>Payment identifiers with the gateway on Table Storage (Azurite), as in Azure: one charge, the recorded answer again.</summary>
[Collection(ChainGroup.Name)]
public sealed class PaymentIdentifierTableTests(ChainFixture chain, AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Two_hundred_parallel_presentations_and_a_retry_are_charged_and_forwarded_once_on_table_storage()
    {
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:Storage:Kind"] = "table";
        settings["X402:Storage:TableEndpoint"] = azurite.Endpoint;
        settings["X402:Storage:AccountName"] = "devstoreaccount1";
        settings["X402:Storage:AccountKey"] = AzuriteFixture.AccountKey;
        settings["X402:Storage:TablePrefix"] = AzuriteFixture.UniqueTable("pi");
        await using var gateway = await GatewayHost.StartAsync(settings);
        var link = await chain.CreateLinkAsync(price: "0.01", gateway: gateway);
        var header = new PaymentBuilder
        {
            Requirement = await RequirementAsync(link.Url), PayerKey = chain.PayerKey, Extensions = PaymentBuilder.IdentifiedBy("pay_" + Guid.NewGuid().ToString("N")),
        }.V2Header();

        var statuses = await SendConcurrentlyAsync(link.Url, header, 200);

        Assert.Contains(200, statuses);
        Assert.All(statuses, s => Assert.True(s is 200 or 409, $"status {s}"));
        await Poll.UntilAsync(async () =>
        {
            using var retry = await SendAsync(link.Url, header);
            return (int)retry.StatusCode == 200 && retry.Headers.Contains("X-Payment-Identifier-Replayed");
        }, TimeSpan.FromSeconds(30));
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, link.PayTo));
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
    }
}
