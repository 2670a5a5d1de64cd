using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;

namespace X402Serverless.Tests.Stores;

/// <summary>What every IAuditLog adapter must do.</summary>
public abstract class AuditLogContract
{
    protected abstract Task<IAuditLog> LogAsync();

    protected static AuditEntry Entry(string organisation, DateTimeOffset at, string action, string targetType = "link", string? targetId = "link_1") =>
        new(AuditIds.New(at), organisation, at, new AuditActor(AuditActor.KeyKind, "key_1", "x402sk_abcd", KeyRoles.Admin),
            action, targetType, targetId, """{"name":"before"}""", """{"name":"after"}""", "203.0.113.9", "succeeded", 200);

    [Fact]
    public async Task Entries_round_trip_newest_first_and_stay_in_their_organisation()
    {
        var log = await LogAsync();
        var t0 = new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);
        var first = Entry("org_a", t0, "link.create");
        await log.AppendAsync(first, default);
        await log.AppendAsync(Entry("org_a", t0.AddMinutes(1), "link.update"), default);
        await log.AppendAsync(Entry("org_b", t0.AddMinutes(2), "payer.create", "payer", "payer_1"), default);

        var a = await log.ListAsync("org_a", new AuditQuery(), default);
        Assert.Equal(["link.update", "link.create"], a.Entries.Select(e => e.Action));
        Assert.Null(a.Next);
        Assert.Equal(first, a.Entries[1]);
        Assert.Equal(["payer.create"], (await log.ListAsync("org_b", new AuditQuery(), default)).Entries.Select(e => e.Action));
        Assert.Empty((await log.ListAsync("org_c", new AuditQuery(), default)).Entries);
    }

    [Fact]
    public async Task Filters_and_pages_follow_each_other_without_gaps_or_repeats()
    {
        var log = await LogAsync();
        var t0 = new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 5; i++)
        {
            await log.AppendAsync(Entry("org_p", t0.AddSeconds(i), i % 2 == 0 ? "link.update" : "payer.update", i % 2 == 0 ? "link" : "payer", "t" + i), default);
        }
        var seen = new List<string?>();
        string? next = null;
        do
        {
            var page = await log.ListAsync("org_p", new AuditQuery(Limit: 2, After: next), default);
            Assert.True(page.Entries.Count <= 2);
            seen.AddRange(page.Entries.Select(e => e.TargetId));
            next = page.Next;
        }
        while (next is not null);
        Assert.Equal(["t4", "t3", "t2", "t1", "t0"], seen);

        Assert.Equal(["t4", "t2", "t0"], (await log.ListAsync("org_p", new AuditQuery(Action: "link.update"), default)).Entries.Select(e => e.TargetId));
        Assert.Equal(["t3", "t1"], (await log.ListAsync("org_p", new AuditQuery(TargetType: "payer"), default)).Entries.Select(e => e.TargetId));
        Assert.Equal(["t3"], (await log.ListAsync("org_p", new AuditQuery(TargetId: "t3"), default)).Entries.Select(e => e.TargetId));
    }
}
