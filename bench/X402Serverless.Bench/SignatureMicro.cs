using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Money;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Bench;

/// <summary>
/// The per-payment CPU work, single-threaded and in process (`-- micro [iterations]`): recovering the payer from an
/// EIP-3009 TransferWithAuthorization signature (EIP-712 digest + ecrecover), the whole local verification, and the
/// header decode before it. Each row: the median of several timed batches (µs per operation) and the bytes the thread
/// allocated per operation (GC.GetAllocatedBytesForCurrentThread), after a warm-up that lets the JIT reach tier 1.
/// µs/op is the thread's own CPU time (getrusage, so a busy shared machine does not inflate it much), beside the wall
/// clock. Prints a markdown table; bench/run.sh appends it under its own table.
/// </summary>
internal static class SignatureMicro
{
    private const int Batches = 7;

    public static void Run(int iterations)
    {
        var payer = Convert.FromHexString("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
        var token = EvmAddress.Parse("0x036CbD53842c5426634e7929541eC2318f3dCF7e");
        var network = new EvmNetwork("eip155:84532", 84532, "base-sepolia", token, "USDC", "2", 6, null);
        var payTo = EvmAddress.Parse("0x209693Bc6afc0C5328bA36FaF03C514EF312287C");
        var requirement = new PaymentRequirement(network, new TokenAmount(10_000), payTo, 300);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var authorization = new TransferAuthorization(Secp256k1.AddressOf(payer), payTo, new BigInteger(10_000), now - 600, now + 240,
            Convert.FromHexString("f3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"));
        var signature = TransferAuthorizationHasher.Sign(network.Domain, authorization, payer);
        var header = Header(requirement, authorization, signature);
        var decoded = PaymentHeaderDecoder.Decode(header, 2).Payment ?? throw new InvalidOperationException("the benchmark's header does not decode");
        var verifier = new PaymentVerifier(TimeProvider.System);
        if (Secp256k1.Recover(TransferAuthorizationHasher.Digest(network.Domain, authorization), signature) != authorization.From
            || !verifier.Verify(decoded, requirement).IsValid)
        {
            throw new InvalidOperationException("the benchmark's payment does not verify");
        }
        var digest = TransferAuthorizationHasher.Digest(network.Domain, authorization);

        Console.WriteLine($"| per-payment work ({iterations} ops × {Batches} batches, 1 thread) | µs/op (CPU) | µs/op (wall) | bytes/op |");
        Console.WriteLine("|---|--:|--:|--:|");
        Row("signature recovery (EIP-712 digest + ecrecover)", iterations, () => Secp256k1.Recover(TransferAuthorizationHasher.Digest(network.Domain, authorization), signature));
        Row("  of which ecrecover (checks, curve, Keccak of the key)", iterations, () => Secp256k1.Recover(digest, signature));
        Row("  of which EIP-712 digest (Keccak-256)", iterations, () => TransferAuthorizationHasher.Digest(network.Domain, authorization));
        Row("payment header decode (base64 + JSON)", iterations, () => PaymentHeaderDecoder.Decode(header, 2));
        Row("local verification (checks + recovery)", iterations, () => verifier.Verify(decoded, requirement));
        Row("header decode + local verification", iterations, () => verifier.Verify(PaymentHeaderDecoder.Decode(header, 2).Payment!, requirement));
    }

    private static void Row(string name, int iterations, Func<object?> op)
    {
        for (var i = 0; i < Math.Max(iterations, 3000); i++)
        {
            op(); // warm-up: tier-0, then the PGO-instrumented tier, then tier 1
        }
        var times = new double[Batches];
        var cpuTimes = new double[Batches];
        long bytes = 0;
        for (var b = 0; b < Batches; b++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var cpu = ThreadCpu.Microseconds();
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < iterations; i++)
            {
                op();
            }
            times[b] = clock.Elapsed.TotalMicroseconds / iterations;
            cpuTimes[b] = (ThreadCpu.Microseconds() - cpu) / iterations;
            bytes += GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Array.Sort(times);
        Array.Sort(cpuTimes);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {cpuTimes[Batches / 2]:0.0} | {times[Batches / 2]:0.0} | {(double)bytes / (Batches * (long)iterations):0} |"));
    }

    private static string Header(PaymentRequirement requirement, TransferAuthorization a, byte[] signature)
    {
        var payload = new JsonObject
        {
            ["x402Version"] = 2,
            ["accepted"] = RequirementJson.V2(requirement),
            ["payload"] = new JsonObject
            {
                ["signature"] = Hex.Encode(signature),
                ["authorization"] = new JsonObject
                {
                    ["from"] = a.From.ToString(), ["to"] = a.To.ToString(), ["value"] = a.Value.ToString(CultureInfo.InvariantCulture),
                    ["validAfter"] = a.ValidAfter.ToString(CultureInfo.InvariantCulture), ["validBefore"] = a.ValidBefore.ToString(CultureInfo.InvariantCulture),
                    ["nonce"] = Hex.Encode(a.Nonce),
                },
            },
        };
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(payload.ToJsonString()));
    }
}

/// <summary>The calling thread's CPU time (user + system) on Linux; wall-clock time elsewhere.</summary>
internal static class ThreadCpu
{
    private static readonly Stopwatch Wall = Stopwatch.StartNew();

    public static double Microseconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return Wall.Elapsed.TotalMicroseconds;
        }
        var usage = new RUsage();
        _ = GetRUsage(1 /* RUSAGE_THREAD */, ref usage);
        return (usage.UserSeconds + usage.SystemSeconds) * 1e6 + usage.UserMicros + usage.SystemMicros;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetRUsage(int who, ref RUsage usage);

    // struct rusage on 64-bit Linux: two timevals (seconds, microseconds), then 14 longs: 144 bytes.
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential, Size = 144)]
    private struct RUsage
    {
        public long UserSeconds;
        public long UserMicros;
        public long SystemSeconds;
        public long SystemMicros;
    }
}
