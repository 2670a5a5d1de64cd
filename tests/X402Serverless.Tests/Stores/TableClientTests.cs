using System.Text.Json.Nodes;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Stores;

/// <summary>The Table Storage REST client against Azurite: error codes, optimistic concurrency, paging.</summary>
public sealed class TableClientTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Service_errors_keep_their_codes_and_etags_guard_concurrent_writes()
    {
        var table = AzuriteFixture.UniqueTable("t");
        await azurite.Tables.CreateTableIfMissingAsync(table, default);
        await azurite.Tables.CreateTableIfMissingAsync(table, default); // idempotent
        var entity = new JsonObject { ["PartitionKey"] = "p", ["RowKey"] = "r", ["Value"] = "one" };
        await azurite.Tables.InsertAsync(table, entity, default);

        var duplicate = await Assert.ThrowsAsync<TableException>(() => azurite.Tables.InsertAsync(table, entity.DeepClone().AsObject(), default));
        Assert.Equal("EntityAlreadyExists", duplicate.Code);

        var (_, etag) = (await azurite.Tables.GetAsync(table, "p", "r", default))!.Value;
        await azurite.Tables.ReplaceAsync(table, new JsonObject { ["PartitionKey"] = "p", ["RowKey"] = "r", ["Value"] = "two" }, etag, default);
        var stale = await Assert.ThrowsAsync<TableException>(() =>
            azurite.Tables.ReplaceAsync(table, new JsonObject { ["PartitionKey"] = "p", ["RowKey"] = "r", ["Value"] = "lost update" }, etag, default));
        Assert.True(stale.IsPreconditionFailed);
        Assert.Equal("UpdateConditionNotSatisfied", stale.Code);
        Assert.Equal("two", (string?)(await azurite.Tables.GetAsync(table, "p", "r", default))!.Value.Entity["Value"]);

        Assert.Null(await azurite.Tables.GetAsync(table, "p", "missing", default));
        Assert.False(await azurite.Tables.DeleteAsync(table, "p", "missing", "*", default));
    }

    [Fact]
    public async Task Queries_follow_continuation_tokens_across_pages()
    {
        var table = AzuriteFixture.UniqueTable("q");
        await azurite.Tables.CreateTableIfMissingAsync(table, default);
        for (var i = 0; i < 25; i++)
        {
            await azurite.Tables.InsertAsync(table, new JsonObject { ["PartitionKey"] = $"p{i % 3}", ["RowKey"] = $"r{i:D2}", ["Kind"] = "x" }, default);
        }
        var all = await azurite.Tables.QueryAsync(table, "Kind eq 'x'", null, default, pageSize: 10);
        Assert.Equal(25, all.Count);
        Assert.Equal(25, all.Select(e => (string?)e["RowKey"]).Distinct().Count());
        Assert.Equal(7, (await azurite.Tables.QueryAsync(table, "Kind eq 'x'", 7, default, pageSize: 5)).Count);
    }
}
