using System.Diagnostics;

namespace X402Serverless.Bench;

/// <summary>Fires requests with a fixed concurrency and records each latency.</summary>
internal static class LoadRunner
{
    public static async Task<Result> RunAsync(string name, int requests, int concurrency, Func<int, Task<int>> send)
    {
        var latencies = new double[requests];
        var failures = 0;
        var next = -1;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                var started = Stopwatch.GetTimestamp();
                var status = await send(i);
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (status is < 200 or >= 300 and not 402)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        });
        await Task.WhenAll(workers);
        var elapsed = clock.Elapsed;
        Array.Sort(latencies);
        return new Result(name, requests, failures, requests / elapsed.TotalSeconds,
            Percentile(latencies, 0.50), Percentile(latencies, 0.95), Percentile(latencies, 0.99));
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    public sealed record Result(string Name, int Requests, int Failures, double RequestsPerSecond, double P50, double P95, double P99)
    {
        public override string ToString() =>
            $"{Name,-44} {Requests,8} {Failures,6} {RequestsPerSecond,10:0} {P50,8:0.00} {P95,8:0.00} {P99,8:0.00}";
    }
}
