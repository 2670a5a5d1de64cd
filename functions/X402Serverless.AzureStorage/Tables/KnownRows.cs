using System.Collections.Concurrent;
using Azure;

namespace X402Serverless.AzureStorage.Tables;

/// <summary>
/// What this process last read or wrote of its hot rows (a balance or a counter: a number, a floor, the ETag), so a
/// change made in the row's turn can skip reading it first: one round trip fewer per leg and per cap. Only a hint:
/// every write is conditioned on the ETag, so a row another process moved fails the write (412), which forgets it, and
/// the retry reads it afresh; a refusal is never decided on a remembered row. Bounded: past its size it starts afresh.
/// </summary>
internal sealed class KnownRows(int capacity = 10_000)
{
    private readonly ConcurrentDictionary<string, KnownRow> _rows = new(StringComparer.Ordinal);

    // Counted apart: ConcurrentDictionary.Count takes every lock of the dictionary, on the hot path of each change.
    private int _count;

    public KnownRow? Find(string key) => _rows.TryGetValue(key, out var row) ? row : null;

    /// <summary>
    /// The row a change starts from: as remembered, else as <paramref name="stored"/> reads it; and as stored whenever the
    /// remembered one would <paramref name="refuse"/> the change, so a refusal is never decided on a remembered row.
    /// </summary>
    public async Task<KnownRow> ForChangeAsync(string key, Func<Task<KnownRow>> stored, Func<KnownRow, bool> refuse)
    {
        var row = Find(key) ?? await stored();
        return row.Remembered && refuse(row) ? await stored() : row;
    }

    /// <summary>Remembers the row as written with <paramref name="etag"/>; a write whose answer carried no ETag forgets it.</summary>
    public void Remember(string key, long value, long floor, ETag? etag)
    {
        if (etag is not { } known)
        {
            Forget(key);
            return;
        }
        var row = new KnownRow(value, floor, known, Remembered: true);
        if (_rows.TryGetValue(key, out _))
        {
            _rows[key] = row;
            return;
        }
        if (Interlocked.Increment(ref _count) > capacity)
        {
            _rows.Clear();
            Interlocked.Exchange(ref _count, 1);
        }
        _rows[key] = row;
    }

    public void Forget(string key)
    {
        if (_rows.TryRemove(key, out _))
        {
            Interlocked.Decrement(ref _count);
        }
    }
}

/// <summary>A balance (with its floor) or a counter (floor unused), the ETag it has, and whether it came from memory.</summary>
internal readonly record struct KnownRow(long Value, long Floor, ETag ETag, bool Remembered);
