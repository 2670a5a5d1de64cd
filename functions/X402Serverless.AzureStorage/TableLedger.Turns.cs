using X402Serverless.AzureStorage.Tables;

namespace X402Serverless.AzureStorage;

// How every balance and counter row is changed: read, then written under the ETag read. A hot row (one payer's credits,
// many calls at once) is changed by one caller at a time in this process (RowGates). Against other processes the ETag
// is the guard: a caller that lost waits outside its turn, longer each time and with jitter, so contenders spread out
// instead of colliding again, and after ~10 s of losing it throws rather than leave the change undone unannounced.
public sealed partial class TableLedger
{
    private const int MaxAttempts = 50;

    /// <summary>
    /// Runs <paramref name="step"/> in the turn of row <paramref name="key"/> until it answers. The step reads the row
    /// and writes it under the ETag it read; it answers null when that write lost to another process.
    /// </summary>
    private static async Task<T> InTurnAsync<T>(RowGates turns, string key, Func<Task<T?>> step, CancellationToken cancellationToken)
        where T : struct
    {
        for (var attempt = 1; ; attempt++)
        {
            using (await turns.EnterAsync(key, cancellationToken))
            {
                if (await step() is { } answer)
                {
                    return answer;
                }
            }
            if (attempt == MaxAttempts)
            {
                throw new RowContendedException($"Row {key} kept changing under every write for {MaxAttempts} tries; the last try changed nothing.");
            }
            await BackOffAsync(attempt, cancellationToken);
        }
    }

    private static Task BackOffAsync(int attempt, CancellationToken cancellationToken) =>
        Task.Delay(Random.Shared.Next(1, Math.Min(250, 4 << Math.Min(attempt, 6)) + 1), cancellationToken);
}
