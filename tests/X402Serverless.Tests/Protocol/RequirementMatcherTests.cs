using System.Text.Json;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Protocol;

public sealed class RequirementMatcherTests
{
    private static readonly NetworkRegistry Networks = new([]);
    private static readonly PaymentRequirement Base = new(Networks.All.Single(n => n.Id == "eip155:8453"), new TokenAmount(10_000),
        EvmAddress.Parse("0x209693Bc6afc0C5328bA36FaF03C514EF312287C"), 300);
    private static readonly PaymentRequirement Sepolia = new(Networks.All.Single(n => n.Id == "eip155:84532"), new TokenAmount(10_000),
        EvmAddress.Parse("0x209693Bc6afc0C5328bA36FaF03C514EF312287C"), 300);

    private static DecodedPayment V2(string acceptedJson)
    {
        var accepted = JsonDocument.Parse(acceptedJson).RootElement.Clone();
        var auth = new TransferAuthorization(default, default, 0, 0, 0, new byte[32]);
        return new DecodedPayment(2, accepted.GetProperty("scheme").GetString()!, accepted.GetProperty("network").GetString()!, auth, [], accepted, default);
    }

    [Fact]
    public void An_echo_in_another_key_order_and_address_case_matches()
    {
        var echo = """
            {"extra":{"version":"2","name":"USDC"},"maxTimeoutSeconds":300.0,"payTo":"0x209693bc6afc0c5328ba36faf03c514ef312287c",
             "asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","amount":"10000","network":"eip155:84532","scheme":"exact"}
            """;
        Assert.Same(Sepolia, RequirementMatcher.Match(V2(echo), [Base, Sepolia]).Requirement);
    }

    [Theory]
    [InlineData("\"amount\":\"10000\"", "\"amount\":\"1\"")]
    [InlineData("\"name\":\"USDC\"", "\"name\":\"USD Coin\"")]
    [InlineData("\"maxTimeoutSeconds\":300", "\"maxTimeoutSeconds\":301")]
    [InlineData("\"scheme\":\"exact\",", "\"scheme\":\"exact\",\"extraField\":1,")]
    public void Any_drift_from_the_current_requirement_does_not_match(string original, string drifted)
    {
        var echo = Sepolia.V2Element.GetRawText().Replace(original, drifted, StringComparison.Ordinal);
        Assert.Equal(ReasonCodes.NoMatchingRequirements, RequirementMatcher.Match(V2(echo), [Sepolia]).Reason);
    }

    [Fact]
    public void A_network_the_link_does_not_take_is_reported_as_such()
    {
        Assert.Equal(ReasonCodes.InvalidNetwork, RequirementMatcher.Match(V2(Base.V2Element.GetRawText()), [Sepolia]).Reason);
    }

    [Fact]
    public void V1_payments_match_by_their_network_name()
    {
        var auth = new TransferAuthorization(default, default, 0, 0, 0, new byte[32]);
        var v1 = new DecodedPayment(1, "exact", "base", auth, [], null, default);
        Assert.Same(Base, RequirementMatcher.Match(v1, [Sepolia, Base]).Requirement);
    }
}
