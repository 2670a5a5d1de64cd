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

/// <summary>Entity group transactions: all operations or none.</summary>
public sealed class TableBatchTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_batch_applies_every_operation_or_none()
    {
        var table = AzuriteFixture.UniqueTable("b");
        await azurite.Tables.CreateTableIfMissingAsync(table, default);
        var etag = await azurite.Tables.InsertAsync(table, new JsonObject { ["PartitionKey"] = "acct", ["RowKey"] = "balance", ["Balance"] = "100" }, default);

        await azurite.Tables.SubmitBatchAsync(table,
        [
            TableBatchOperation.Replace(new JsonObject { ["PartitionKey"] = "acct", ["RowKey"] = "balance", ["Balance"] = "60" }, etag),
            TableBatchOperation.Insert(new JsonObject { ["PartitionKey"] = "acct", ["RowKey"] = "p:e1", ["Amount"] = "-40" }),
        ], default);
        var (balance, newEtag) = (await azurite.Tables.GetAsync(table, "acct", "balance", default))!.Value;
        Assert.Equal("60", (string?)balance["Balance"]);
        Assert.NotNull(await azurite.Tables.GetAsync(table, "acct", "p:e1", default));

        // A stale ETag fails the whole changeset: the posting is not written either.
        var stale = await Assert.ThrowsAsync<TableException>(() => azurite.Tables.SubmitBatchAsync(table,
        [
            TableBatchOperation.Replace(new JsonObject { ["PartitionKey"] = "acct", ["RowKey"] = "balance", ["Balance"] = "10" }, etag),
            TableBatchOperation.Insert(new JsonObject { ["PartitionKey"] = "acct", ["RowKey"] = "p:e2", ["Amount"] = "-50" }),
        ], default));
        Assert.Equal(412, stale.Status);
        Assert.Null(await azurite.Tables.GetAsync(table, "acct", "p:e2", default));

        // A duplicate posting fails the changeset too: the balance does not move twice.
        var duplicate = await Assert.ThrowsAsync<TableException>(() => azurite.Tables.SubmitBatchAsync(table,
        [
            TableBatchOperation.Replace(new JsonObject { ["PartitionKey"] = "acct", ["RowKey"] = "balance", ["Balance"] = "20" }, newEtag),
            TableBatchOperation.Insert(new JsonObject { ["PartitionKey"] = "acct", ["RowKey"] = "p:e1", ["Amount"] = "-40" }),
        ], default));
        Assert.Equal(409, duplicate.Status);
        Assert.Equal("60", (string?)(await azurite.Tables.GetAsync(table, "acct", "balance", default))!.Value.Entity["Balance"]);
    }
}
