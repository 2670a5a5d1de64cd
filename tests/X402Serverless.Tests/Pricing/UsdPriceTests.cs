using X402Serverless.Core.Pricing;

namespace X402Serverless.Tests.Pricing;

public sealed class UsdPriceTests
{
    [Theory]
    [InlineData("0.01", 6, "10000")]
    [InlineData("1", 6, "1000000")]
    [InlineData("$0.5", 6, "500000")]
    [InlineData("0.000001", 6, "1")]
    [InlineData("123456789.123456", 6, "123456789123456")]
    [InlineData("0.01", 18, "10000000000000000")]
    [InlineData("0.0100", 6, "10000")]
    public void Converts_exactly_to_atomic_units(string text, int decimals, string atomic) =>
        Assert.Equal(atomic, UsdPrice.Parse(text).ToAtomic(decimals)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void A_price_finer_than_the_token_is_refused_not_rounded() =>
        Assert.Null(UsdPrice.Parse("0.0000001").ToAtomic(6));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("0.000")]
    [InlineData("-1")]
    [InlineData("1e-2")]
    [InlineData("0,01")]
    [InlineData(".5")]
    [InlineData("5.")]
    [InlineData("abc")]
    [InlineData("1000000000")]
    [InlineData("NaN")]
    public void Rejects_what_is_not_a_positive_usd_decimal(string? text)
    {
        Assert.False(UsdPrice.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Theory]
    [InlineData("0.01", "0.01")]
    [InlineData("1", "1.00")]
    [InlineData("0.0010", "0.001")]
    [InlineData("$2.5", "2.50")]
    public void Has_one_canonical_text(string text, string canonical) =>
        Assert.Equal(canonical, UsdPrice.Parse(text).ToString());
}
