using System.Text.Json;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Money;

public sealed class UsdTests
{
    [Theory]
    [InlineData("0.01", 6, "10000")]
    [InlineData("1", 6, "1000000")]
    [InlineData("$0.5", 6, "500000")]
    [InlineData("0.000001", 6, "1")]
    [InlineData("123456789.123456", 6, "123456789123456")]
    [InlineData("0.01", 18, "10000000000000000")]
    [InlineData("0.0100", 6, "10000")]
    [InlineData("0.01", 2, "1")]
    public void Converts_exactly_to_token_units(string text, int decimals, string units) =>
        Assert.Equal(units, Usd.Parse(text).ToToken(decimals)!.Value.ToString());

    [Fact]
    public void An_amount_finer_than_the_token_is_refused_not_rounded()
    {
        Assert.Null(Usd.Parse("0.001").ToToken(2));
        Assert.Equal(UsdParseError.TooPrecise, UsdText.TryParse("0.0000001", out _));
        Assert.Null(Usd.FromToken(TokenAmount.Parse("1"), 18));
    }

    [Theory]
    [InlineData("10000", 6, "0.01")]
    [InlineData("10000000000000000", 18, "0.01")]
    [InlineData("1", 2, "0.01")]
    public void Converts_exactly_from_token_units(string units, int decimals, string usd) =>
        Assert.Equal(usd, Usd.FromToken(TokenAmount.Parse(units), decimals)!.Value.ToString());

    [Theory]
    [InlineData(null, UsdParseError.Missing)]
    [InlineData("", UsdParseError.Missing)]
    [InlineData("1e-2", UsdParseError.Malformed)]
    [InlineData("0,01", UsdParseError.Malformed)]
    [InlineData(".5", UsdParseError.Malformed)]
    [InlineData("5.", UsdParseError.Malformed)]
    [InlineData("abc", UsdParseError.Malformed)]
    [InlineData("1000000000", UsdParseError.Malformed)]
    [InlineData("NaN", UsdParseError.Malformed)]
    [InlineData("--1", UsdParseError.Malformed)]
    [InlineData("0.1234567", UsdParseError.TooPrecise)]
    public void Refuses_what_is_not_a_usd_decimal(string? text, UsdParseError expected) =>
        Assert.Equal(expected, UsdText.TryParse(text, out _));

    [Theory]
    [InlineData("0.01", "0.01")]
    [InlineData("1", "1.00")]
    [InlineData("0.0010", "0.001")]
    [InlineData("$2.5", "2.50")]
    [InlineData("-3.5", "-3.50")]
    [InlineData("0", "0.00")]
    [InlineData("0.000001", "0.000001")]
    [InlineData("999999999.999999", "999999999.999999")]
    public void Has_one_canonical_text(string text, string canonical) =>
        Assert.Equal(canonical, Usd.Parse(text).ToString());

    [Fact]
    public void Cents_and_shares_are_exact()
    {
        Assert.Equal(Usd.Parse("20.00"), Usd.FromCents(2000));
        Assert.Equal(2000, Usd.Parse("20.00").WholeCents);
        Assert.Null(Usd.Parse("20.001").WholeCents);
        Assert.Equal(Usd.Parse("0.025"), Usd.Parse("1.00").Share(250));
        Assert.Equal(Usd.FromMicros(0), Usd.FromMicros(99).Share(100)); // rounded down to the micro-dollar
    }

    [Fact]
    public void Json_reads_strings_and_exact_numbers_and_writes_canonical_strings()
    {
        Assert.Equal(Usd.Parse("25"), JsonSerializer.Deserialize<Usd>("25"));
        Assert.Equal(Usd.Parse("0.10"), JsonSerializer.Deserialize<Usd>("\"0.1\""));
        Assert.Equal("\"0.10\"", JsonSerializer.Serialize(Usd.Parse("0.1")));
        Assert.Equal("null", JsonSerializer.Serialize((Usd?)null));
        // A double's nearest value is never consulted: 0.1 + 0.2 style noise cannot enter.
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Usd>("1e-2"));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Usd>("\"0.0000001\""));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Usd>("true"));
    }

    [Fact]
    public void Arithmetic_overflow_throws_instead_of_wrapping() =>
        Assert.Throws<OverflowException>(() => Usd.FromMicros(long.MaxValue) + Usd.FromMicros(1));
}
