using X402Serverless.Core.Kyc;
using X402Serverless.Core.Ports;

namespace X402Serverless.Tests.Stores;

/// <summary>What every IKycStore adapter must do.</summary>
public abstract class KycStoreContract
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    protected abstract Task<IKycStore> StoreAsync();

    private static string Wallet() => "0x" + Convert.ToHexString(Guid.NewGuid().ToByteArray()).ToLowerInvariant() + "00000000";

    private static KycRecord Record(string subject, string status, DateTimeOffset at, params string[] wallets) => new()
    {
        SubjectId = subject, Status = status, Level = status == KycStatuses.Verified ? KycLevels.Basic : KycLevels.None, Country = "DE",
        Reference = "inq_" + at.ToUnixTimeSeconds(), Wallets = wallets, DecidedAt = at,
    };

    [Fact]
    public async Task A_newer_decision_replaces_an_older_one_and_an_older_or_equal_one_changes_nothing()
    {
        var store = await StoreAsync();
        var subject = "pay_" + Guid.NewGuid().ToString("N");
        Assert.Null(await store.GetAsync(subject, default));

        Assert.True(await store.SaveIfNewerAsync(Record(subject, KycStatuses.Verified, Noon), default));
        Assert.False(await store.SaveIfNewerAsync(Record(subject, KycStatuses.Rejected, Noon.AddMinutes(-5)), default));
        Assert.False(await store.SaveIfNewerAsync(Record(subject, KycStatuses.Rejected, Noon), default));
        var kept = await store.GetAsync(subject, default);
        Assert.Equal((KycStatuses.Verified, KycLevels.Basic, "DE", Noon), (kept!.Status, kept.Level, kept.Country, kept.DecidedAt));

        Assert.True(await store.SaveIfNewerAsync(Record(subject, KycStatuses.Revoked, Noon.AddHours(1)), default));
        Assert.Equal(KycStatuses.Revoked, (await store.GetAsync(subject, default))!.Status);
    }

    [Fact]
    public async Task Wallets_find_their_subject_until_a_later_decision_drops_them()
    {
        var store = await StoreAsync();
        var subject = "pay_" + Guid.NewGuid().ToString("N");
        var (first, second) = (Wallet(), Wallet());
        await store.SaveIfNewerAsync(Record(subject, KycStatuses.Verified, Noon, first, second), default);
        Assert.Equal(subject, (await store.FindByWalletAsync(first.ToUpperInvariant().Replace("0X", "0x", StringComparison.Ordinal), default))?.SubjectId);
        Assert.Equal(subject, (await store.FindByWalletAsync(second, default))?.SubjectId);
        Assert.Null(await store.FindByWalletAsync(Wallet(), default));

        await store.SaveIfNewerAsync(Record(subject, KycStatuses.Verified, Noon.AddMinutes(1), second), default);
        Assert.Null(await store.FindByWalletAsync(first, default));
        Assert.Equal(subject, (await store.FindByWalletAsync(second, default))?.SubjectId);
    }

    [Fact]
    public async Task A_wallet_verified_for_another_subject_moves_to_it()
    {
        var store = await StoreAsync();
        var (alice, bob) = ("pay_" + Guid.NewGuid().ToString("N"), "pay_" + Guid.NewGuid().ToString("N"));
        var shared = Wallet();
        await store.SaveIfNewerAsync(Record(alice, KycStatuses.Verified, Noon, shared), default);
        await store.SaveIfNewerAsync(Record(bob, KycStatuses.Verified, Noon.AddMinutes(1), shared), default);
        Assert.Equal(bob, (await store.FindByWalletAsync(shared, default))?.SubjectId);
    }
}
