namespace X402Serverless.Tests.Support;

/// <summary>Waits on observable state, never on a guessed delay: polls the condition until it holds or the time runs out.</summary>
internal static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The condition did not hold in time.");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Polls until <paramref name="read"/> gives a value, and returns it.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T?>> read, TimeSpan timeout) where T : class
    {
        T? value = null;
        await UntilAsync(async () => (value = await read()) is not null, timeout);
        return value!;
    }
}
