using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Stores;

/// <summary>
/// What the adapters rely on from Azure.Data.Tables, on Azurite: the service's codes for a duplicate and a stale ETag,
/// a delete of nothing answered rather than thrown, paging, filter escaping, and the stored formats kept as before.
/// </summary>
public sealed class TableSemanticsTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Service_errors_keep_their_codes_and_etags_guard_concurrent_writes()
    {
        var table = await NewTableAsync("t");
        await table.CreateIfNotExistsAsync(); // idempotent
        await table.AddEntityAsync(new TableEntity("p", "r") { ["Value"] = "one" });

        var duplicate = await Assert.ThrowsAsync<RequestFailedException>(() => table.AddEntityAsync(new TableEntity("p", "r") { ["Value"] = "again" }));
        Assert.True(duplicate.IsConflict());
        Assert.Equal("EntityAlreadyExists", duplicate.ErrorCode);

        var read = (await table.FindAsync("p", "r", default))!;
        await table.UpdateEntityAsync(new TableEntity("p", "r") { ["Value"] = "two" }, read.ETag, TableUpdateMode.Replace);
        var stale = await Assert.ThrowsAsync<RequestFailedException>(() =>
            table.UpdateEntityAsync(new TableEntity("p", "r") { ["Value"] = "lost update" }, read.ETag, TableUpdateMode.Replace));
        Assert.True(stale.IsPreconditionFailed());
        Assert.Equal("UpdateConditionNotSatisfied", stale.ErrorCode);
        Assert.Equal("two", (await table.FindAsync("p", "r", default))!["Value"]);
        var staleDelete = await Assert.ThrowsAsync<RequestFailedException>(() => table.DeleteEntityAsync("p", "r", read.ETag));
        Assert.True(staleDelete.IsPreconditionFailed());

        Assert.Null(await table.FindAsync("p", "missing", default));
        // The adapters read "was it there?" from the status: the SDK does not throw on a missing entity.
        Assert.Equal(404, (await table.DeleteEntityAsync("p", "missing", ETag.All)).Status);
    }

    [Fact]
    public async Task Queries_follow_continuation_tokens_and_stop_at_the_limit()
    {
        var table = await NewTableAsync("q");
        for (var i = 0; i < 25; i++)
        {
            await table.AddEntityAsync(new TableEntity($"p{i % 3}", $"r{i:D2}") { ["Kind"] = "x" });
        }
        var filter = TableClient.CreateQueryFilter($"Kind eq {"x"}");
        var all = await table.ListAsync(filter, null, default, pageSize: 10);
        Assert.Equal(25, all.Count);
        Assert.Equal(25, all.Select(e => e.RowKey).Distinct().Count());
        Assert.Equal(7, (await table.ListAsync(filter, 7, default, pageSize: 5)).Count);
        Assert.Empty(await table.ListAsync(filter, 0, default));
    }

    [Fact]
    public async Task Filter_values_are_escaped_so_a_quote_in_an_id_matches_only_itself()
    {
        var table = await NewTableAsync("f");
        await table.AddEntityAsync(new TableEntity("a", "1") { ["OrganisationId"] = "o'brien" });
        await table.AddEntityAsync(new TableEntity("b", "1") { ["OrganisationId"] = "other" });
        var hostile = "x' or OrganisationId ne 'x";
        Assert.Single(await table.ListAsync(TableClient.CreateQueryFilter($"OrganisationId eq {"o'brien"}"), null, default));
        Assert.Empty(await table.ListAsync(TableClient.CreateQueryFilter($"OrganisationId eq {hostile}"), null, default));
    }

    [Fact]
    public async Task Stored_formats_are_unchanged_micros_and_amounts_as_decimal_text()
    {
        var accounts = AzuriteFixture.UniqueTable("accounts");
        var ledger = new TableLedger(azurite.Tables, TimeProvider.System, AzuriteFixture.UniqueTable("entries"), accounts, AzuriteFixture.UniqueTable("caps"));
        await ledger.InitializeAsync(default);
        var accountsTable = azurite.Tables.GetTableClient(accounts);
        await ledger.PostAsync(LedgerEntry.Transfer("e1", "topup", Accounts.CardClearing, Accounts.Credits("p"), Usd.FromMicros(1_250_000)), [], default);

        var balance = (await accountsTable.FindAsync(Accounts.Credits("p"), "balance", default))!;
        Assert.Equal("1250000", balance["Balance"]);
        Assert.Equal("0", balance["Floor"]);
        var posting = (await accountsTable.FindAsync(Accounts.Credits("p"), "p:e1", default))!;
        Assert.Equal("1250000", posting["Amount"]);

        // A row typed Int64 by another tool still reads.
        await accountsTable.UpsertEntityAsync(new TableEntity("typed", "balance") { ["Balance"] = 42L, ["Floor"] = 0L }, TableUpdateMode.Replace);
        Assert.Equal(42, (await ledger.BalanceAsync("typed", default)).Micros);
    }

    private async Task<TableClient> NewTableAsync(string stem)
    {
        var table = azurite.Tables.GetTableClient(AzuriteFixture.UniqueTable(stem));
        await table.CreateIfNotExistsAsync();
        return table;
    }
}

/// <summary>Entity group transactions (the ledger's legs and caps): all actions or none.</summary>
public sealed class TableTransactionTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_transaction_applies_every_action_or_none()
    {
        var table = azurite.Tables.GetTableClient(AzuriteFixture.UniqueTable("b"));
        await table.CreateIfNotExistsAsync();
        var created = await table.AddEntityAsync(new TableEntity("acct", "balance") { ["Balance"] = "100" });
        var etag = created.Headers.ETag!.Value;

        await table.SubmitTransactionAsync(
        [
            new TableTransactionAction(TableTransactionActionType.UpdateReplace, new TableEntity("acct", "balance") { ["Balance"] = "60" }, etag),
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("acct", "p:e1") { ["Amount"] = "-40" }),
        ]);
        var balance = (await table.FindAsync("acct", "balance", default))!;
        Assert.Equal("60", balance["Balance"]);
        Assert.NotNull(await table.FindAsync("acct", "p:e1", default));

        // A stale ETag fails the whole changeset: the posting is not written either.
        var stale = await Assert.ThrowsAsync<TableTransactionFailedException>(() => table.SubmitTransactionAsync(
        [
            new TableTransactionAction(TableTransactionActionType.UpdateReplace, new TableEntity("acct", "balance") { ["Balance"] = "10" }, etag),
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("acct", "p:e2") { ["Amount"] = "-50" }),
        ]));
        Assert.True(stale.IsPreconditionFailed());
        Assert.Null(await table.FindAsync("acct", "p:e2", default));

        // A duplicate posting fails the changeset too: the balance does not move twice.
        var duplicate = await Assert.ThrowsAsync<TableTransactionFailedException>(() => table.SubmitTransactionAsync(
        [
            new TableTransactionAction(TableTransactionActionType.UpdateReplace, new TableEntity("acct", "balance") { ["Balance"] = "20" }, balance.ETag),
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("acct", "p:e1") { ["Amount"] = "-40" }),
        ]));
        Assert.True(duplicate.IsConflict());
        Assert.Equal(1, duplicate.FailedTransactionActionIndex);
        Assert.Equal("60", (await table.FindAsync("acct", "balance", default))!["Balance"]);

        // Taking back a posting that is already gone fails as 404: the ledger's undo reads that as done.
        var gone = await Assert.ThrowsAsync<TableTransactionFailedException>(() => table.SubmitTransactionAsync(
        [
            new TableTransactionAction(TableTransactionActionType.UpdateReplace, new TableEntity("acct", "balance") { ["Balance"] = "100" }, balance.ETag),
            new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity("acct", "p:missing"), ETag.All),
        ]));
        Assert.True(gone.IsNotFound());
    }
}
