using System.Text;
using X402Serverless.Core.Kyc;

namespace X402Serverless.Tests.Kyc;

public sealed class KycEventTests
{
    private const string Wallet = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";

    private static bool Parse(string json, out KycEvent? parsed, out string? error) =>
        KycEvent.TryParse(Encoding.UTF8.GetBytes(json), out parsed, out error);

    [Fact]
    public void A_verified_decision_reads_into_a_record_with_lower_case_unique_wallets_and_an_upper_case_country()
    {
        var json = $$"""{"id":"kev_1","type":"verification.updated","subject":"pay_1","status":"verified","level":"full","country":"de","wallets":["{{Wallet}}","{{Wallet.ToLowerInvariant()}}"],"reference":"inq_9","decidedAt":"2026-11-21T10:00:00+01:00"}""";
        Assert.True(Parse(json, out var e, out var error), error);
        Assert.Equal("kev_1", e!.Id);
        var r = e.Record;
        Assert.Equal(("pay_1", "verified", "full", "DE", "inq_9"), (r.SubjectId, r.Status, r.Level, r.Country, r.Reference));
        Assert.Equal([Wallet.ToLowerInvariant()], r.Wallets);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero), r.DecidedAt);
        Assert.True(r.Satisfies(KycLevels.Basic));
        Assert.True(r.Satisfies(KycLevels.Full));
    }

    [Fact]
    public void A_rejection_carries_no_level_whatever_the_provider_sent_and_satisfies_only_links_without_kyc()
    {
        Assert.True(Parse("""{"id":"kev_2","subject":"pay_1","status":"rejected","level":"full","decidedAt":"2026-11-21T10:00:00Z"}""", out var e, out _));
        Assert.Equal(KycLevels.None, e!.Record.Level);
        Assert.False(e.Record.Satisfies(KycLevels.Basic));
        Assert.True(e.Record.Satisfies(KycLevels.None));
        Assert.Equal("kev_2", e.Record.Reference);
    }

    [Fact]
    public void The_attestation_type_is_the_one_the_readme_documents()
    {
        Assert.Equal("KycAttestation(address wallet,string level,string country,uint64 issuedAt,uint64 expiresAt)", KycAttestation.TypeString);
    }

    [Fact]
    public void Basic_does_not_satisfy_a_link_asking_for_full()
    {
        Assert.True(Parse("""{"id":"kev_3","subject":"pay_1","status":"verified","level":"basic","decidedAt":"2026-11-21T10:00:00Z"}""", out var e, out _));
        Assert.True(e!.Record.Satisfies(KycLevels.Basic));
        Assert.False(e.Record.Satisfies(KycLevels.Full));
    }

    [Theory]
    [InlineData("not json", "not JSON")]
    [InlineData("[1]", "JSON object")]
    [InlineData("""{"subject":"pay_1","status":"verified","decidedAt":"2026-11-21T10:00:00Z"}""", "id is required")]
    [InlineData("""{"id":"k","status":"verified","decidedAt":"2026-11-21T10:00:00Z"}""", "subject is required")]
    [InlineData("""{"id":"k","subject":"pay_1","status":"approved","decidedAt":"2026-11-21T10:00:00Z"}""", "status is one of")]
    [InlineData("""{"id":"k","subject":"pay_1","status":"verified","level":"gold","decidedAt":"2026-11-21T10:00:00Z"}""", "level is one of")]
    [InlineData("""{"id":"k","subject":"pay_1","status":"verified","country":"DEU","decidedAt":"2026-11-21T10:00:00Z"}""", "alpha-2")]
    [InlineData("""{"id":"k","subject":"pay_1","status":"verified"}""", "decidedAt is required")]
    [InlineData("""{"id":"k","subject":"pay_1","status":"verified","decidedAt":"yesterday"}""", "decidedAt is required")]
    [InlineData("""{"id":"k","subject":"pay_1","status":"verified","wallets":"0x00","decidedAt":"2026-11-21T10:00:00Z"}""", "wallets is an array")]
    [InlineData("""{"id":"k","subject":"pay_1","status":"verified","wallets":["0x12"],"decidedAt":"2026-11-21T10:00:00Z"}""", "wallets is an array")]
    public void A_malformed_event_is_refused_with_a_reason(string json, string expected)
    {
        Assert.False(Parse(json, out var e, out var error));
        Assert.Null(e);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
