using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>Payments whose request died are settled if the chain says they landed, freed if it says they did not.</summary>
[Collection(ChainGroup.Name)]
public sealed class RecoveryTests(ChainFixture chain)
{
    [Fact]
    public async Task A_dead_requests_payment_is_freed_when_unused_on_chain_and_marked_settled_when_it_landed()
    {
        var store = chain.Gateway.Services.GetRequiredService<IPaymentStore>();
        var old = DateTimeOffset.UtcNow.AddHours(-1);
        var link = await chain.CreateLinkAsync();
        var requirement = await RequirementAsync(link.Url);

        // One authorization never used on chain, one that landed (settled through the gateway, then rewound in the store).
        var unused = new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey };
        var landed = new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey };
        using (var paid = await SendAsync(link.Url, landed.V2Header()))
        {
            Assert.Equal(200, (int)paid.StatusCode);
        }
        var unusedId = PaymentId.For(84532, chain.Token, chain.Payer, unused.Nonce);
        var landedId = PaymentId.For(84532, chain.Token, chain.Payer, landed.Nonce);
        var landedTx = (await store.GetAsync(landedId, default))!.Transaction;
        await ReplaceWithStaleAsync(store, landedId, landed.Nonce, link.PayTo, old);
        await ReplaceWithStaleAsync(store, unusedId, unused.Nonce, link.PayTo, old);

        using var client = chain.Gateway.Client();
        using var response = await client.PostAsync("/Maintenance", new StringContent("""{"Data":{"timer":{}},"Metadata":{}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        Assert.Null(await store.GetAsync(unusedId, default));
        var recovered = await store.GetAsync(landedId, default);
        Assert.Equal(PaymentStatus.Settled, recovered!.Status);
        Assert.Equal(landedTx, recovered.Transaction);
        Assert.True(recovered.ContentOwed); // its request died before delivering: the same payment may redeem it
    }

    private async Task ReplaceWithStaleAsync(IPaymentStore store, string id, byte[] nonce, EvmAddress payTo, DateTimeOffset at)
    {
        // Drop whatever the store holds and put back a Reserved row as a crashed request would have left it.
        var database = chain.Gateway.Services.GetRequiredService<X402Serverless.Sqlite.SqliteDatabase>();
        await using (var connection = database.Open())
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "DELETE FROM payments WHERE id = $id;";
            command.Parameters.AddWithValue("$id", id);
            await command.ExecuteNonQueryAsync();
        }
        await store.TryReserveAsync(new PaymentRecord
        {
            Id = id, LinkId = "lnk_recovery", OrganisationId = "org_recovery", Network = ChainFixture.V2Network, Asset = chain.Token.ToString(),
            Payer = chain.Payer.ToString(), PayTo = payTo.ToString(), Nonce = Hex.Encode(nonce), Amount = TokenAmount.Parse("10000"),
            X402Version = 2, Status = PaymentStatus.Reserved, ValidBefore = at.AddHours(2).ToUnixTimeSeconds(), CreatedAt = at, UpdatedAt = at,
        }, default);
    }
}
