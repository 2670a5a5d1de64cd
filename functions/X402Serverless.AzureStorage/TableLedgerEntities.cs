using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>
/// The stored shapes of <see cref="TableLedger"/>'s rows, kept in one place so the posting, recovery and query code
/// cannot drift apart on a key or a field name. Entries table: one journal row per entry (partition = entry key).
/// Accounts table: per account partition, a balance row plus one posting row per applied leg. Caps table: per cap
/// partition, a counter row plus one marker row per applied entry.
/// </summary>
internal static class TableLedgerEntities
{
    public const string EntryRow = "entry";
    public const string BalanceRow = "balance";
    public const string CounterRow = "counter";

    // ';' sorts right after ':', so [p:, p;) is exactly the posting rows of a partition.
    public const string PostingPrefix = "p:";
    public const string PostingPrefixEnd = "p;";
    public const string CapMarkerPrefix = "a:";

    public const string Pending = "pending";
    public const string Posted = "posted";

    /// <summary>Refused, its applied parts being taken back: recovery finishes the take-back and never posts it.</summary>
    public const string Refused = "refused";

    /// <summary>The posting's row key is the entry key: a second insert of the same leg conflicts.</summary>
    public static string PostingRow(string entryKey) => PostingPrefix + entryKey;

    /// <summary>The cap marker's row key is the entry key: a second application of the same cap conflicts.</summary>
    public static string CapMarkerRow(string entryKey) => CapMarkerPrefix + entryKey;

    /// <summary>
    /// The journal row, written before anything is applied. Legs and caps are stored as JSON string arrays with
    /// micro-dollars as invariant decimal strings, so <see cref="TableLedger.RecoverAsync"/> can replay the entry.
    /// <paramref name="run"/> marks the post that wrote it: a conflict with a row bearing its own mark is its own write
    /// whose answer was lost, not another post's.
    /// </summary>
    public static TableEntity Journal(LedgerEntry entry, IReadOnlyList<CapCheck> caps, DateTimeOffset createdAt, string run) => new(entry.Key, EntryRow)
    {
        ["Run"] = run,
        ["Kind"] = entry.Kind,
        ["Memo"] = entry.Memo,
        ["Legs"] = JsonSerializer.Serialize(entry.Legs.Select(l => new[] { l.Account, l.Amount.Micros.ToString(CultureInfo.InvariantCulture) })),
        ["Caps"] = JsonSerializer.Serialize(caps.Select(c => new[] { c.Key, c.Amount.Micros.ToString(CultureInfo.InvariantCulture), c.Limit.Micros.ToString(CultureInfo.InvariantCulture) })),
        ["State"] = Pending,
        ["CreatedAt"] = Time(createdAt),
    };

    public static LedgerEntry JournaledEntry(TableEntity journal) =>
        new(journal.PartitionKey, Str(journal, "Kind"), Legs(journal), OptStr(journal, "Memo"));

    public static List<CapCheck> JournaledCaps(TableEntity journal) =>
        JsonSerializer.Deserialize<string[][]>(Str(journal, "Caps"))!
            .Select(c => new CapCheck(c[0], Usd.FromMicros(long.Parse(c[1], CultureInfo.InvariantCulture)), Usd.FromMicros(long.Parse(c[2], CultureInfo.InvariantCulture)))).ToList();

    public static List<Leg> Legs(TableEntity journal) =>
        JsonSerializer.Deserialize<string[][]>(Str(journal, "Legs"))!.Select(l => new Leg(l[0], Usd.FromMicros(long.Parse(l[1], CultureInfo.InvariantCulture)))).ToList();

    public static TableEntity Balance(string account, long balance, long floor) => new(account, BalanceRow)
    {
        ["Balance"] = Long(balance), ["Floor"] = Long(floor),
    };

    public static TableEntity Counter(string key, long used) => new(key, CounterRow) { ["Used"] = Long(used) };

    public static TableEntity PostingEntity(Leg leg, LedgerEntry entry, DateTimeOffset at) => new(leg.Account, PostingRow(entry.Key))
    {
        ["Amount"] = Long(leg.Amount.Micros),
        ["Kind"] = entry.Kind, ["Memo"] = entry.Memo, ["At"] = Time(at),
    };

    public static TableEntity CapMarker(CapCheck cap, string entryKey) => new(cap.Key, CapMarkerRow(entryKey)) { ["Amount"] = Long(cap.Amount.Micros) };

    /// <summary>A posting row read back; its timestamp's ticks order postings within the account.</summary>
    public static Posting ReadPosting(TableEntity e, string account) =>
        new(Time(e, "At").UtcTicks, Str(e, "RowKey")[PostingPrefix.Length..], Str(e, "Kind"), account, Usd.FromMicros(OptLong(e, "Amount") ?? 0), OptStr(e, "Memo"), Time(e, "At"));
}
