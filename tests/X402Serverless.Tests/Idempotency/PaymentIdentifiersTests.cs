using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using X402Serverless.Core.Idempotency;
using X402Serverless.Handler.Idempotency;

namespace X402Serverless.Tests.Idempotency;

public sealed class PaymentIdentifiersTests
{
    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    [Theory]
    [InlineData("pay_7d5d747be160e280", true)]
    [InlineData("abcdefghijklmno", false)]
    [InlineData("abcdefghijklmnop", true)]
    [InlineData("A-Z_a-z_0-9-----", true)]
    [InlineData("pay_abc!@#defghijk", false)]
    [InlineData("pay_ümlaut_0123456", false)]
    [InlineData("pay_with space_0123", false)]
    public void An_id_is_16_to_128_letters_digits_dashes_and_underscores(string id, bool valid)
    {
        Assert.Equal(valid, PaymentIdentifiers.IsValid(id));
        Assert.True(PaymentIdentifiers.IsValid(new string('a', 128)));
        Assert.False(PaymentIdentifiers.IsValid(new string('a', 129)));
    }

    [Fact]
    public void The_id_is_read_from_the_extension_and_absent_or_malformed_forms_are_told_apart()
    {
        Assert.Equal(("pay_0123456789abcdef", (string?)null),
            PaymentIdentifiers.Read(Json("""{"extensions":{"payment-identifier":{"info":{"required":false,"id":"pay_0123456789abcdef"}}}}""")));
        Assert.Equal(((string?)null, (string?)null), PaymentIdentifiers.Read(Json("""{"x402Version":2}""")));
        Assert.Equal(((string?)null, (string?)null), PaymentIdentifiers.Read(Json("""{"extensions":{"bazaar":{}}}""")));
        // The server's declaration echoed without an id.
        Assert.Equal(((string?)null, (string?)null), PaymentIdentifiers.Read(Json("""{"extensions":{"payment-identifier":{"info":{"required":false}}}}""")));
        Assert.NotNull(PaymentIdentifiers.Read(Json("""{"extensions":{"payment-identifier":"pay_0123456789abcdef"}}""")).Error);
        Assert.NotNull(PaymentIdentifiers.Read(Json("""{"extensions":{"payment-identifier":{"info":{"id":42}}}}""")).Error);
        Assert.NotNull(PaymentIdentifiers.Read(Json("""{"extensions":{"payment-identifier":{"info":{"id":"short"}}}}""")).Error);
    }

    [Fact]
    public void The_fingerprint_covers_the_exact_payload_the_method_and_the_path()
    {
        var payload = Json("""{"a":1,"b":2}""");
        var fingerprint = PaymentIdentifiers.Fingerprint(payload, "GET", "items?x=1");
        Assert.Equal(fingerprint, PaymentIdentifiers.Fingerprint(Json("""{"a":1,"b":2}"""), "get", "items?x=1"));
        Assert.NotEqual(fingerprint, PaymentIdentifiers.Fingerprint(Json("""{"b":2,"a":1}"""), "GET", "items?x=1"));
        Assert.NotEqual(fingerprint, PaymentIdentifiers.Fingerprint(payload, "POST", "items?x=1"));
        Assert.NotEqual(fingerprint, PaymentIdentifiers.Fingerprint(payload, "GET", "items?x=2"));
    }

    [Fact]
    public async Task The_tee_passes_everything_through_and_keeps_a_copy_only_up_to_its_limit()
    {
        using var inner = new MemoryStream();
        var small = new AnswerTee(inner, 8);
        await small.WriteAsync(Encoding.ASCII.GetBytes("abcd"));
        small.Write(Encoding.ASCII.GetBytes("efgh"), 0, 4);
        Assert.Equal("abcdefgh", Encoding.ASCII.GetString(small.Copy!));

        await small.WriteAsync(Encoding.ASCII.GetBytes("i"));
        Assert.True(small.Overflowed);
        Assert.Null(small.Copy);
        Assert.Equal("abcdefghi", Encoding.ASCII.GetString(inner.ToArray()));
    }

    [Fact]
    public void Recorded_headers_leave_out_framing_and_shrink_to_the_essential_ones_when_too_many()
    {
        var headers = new HeaderDictionary
        {
            ["Content-Type"] = "application/json",
            ["Content-Length"] = "12",
            ["Date"] = "today",
            ["PAYMENT-RESPONSE"] = "abc",
            ["X-Custom"] = new Microsoft.Extensions.Primitives.StringValues(["1", "2"]),
        };
        var applied = new HeaderDictionary();
        RecordedHeaders.Apply(RecordedHeaders.Write(headers), applied);
        Assert.Equal("application/json", applied["Content-Type"].ToString());
        Assert.Equal(new[] { "1", "2" }, applied["X-Custom"].ToArray().Select(v => v ?? ""));
        Assert.False(applied.ContainsKey("Content-Length"));
        Assert.False(applied.ContainsKey("Date"));

        headers["X-Huge"] = new string('h', 20_000);
        var shrunk = new HeaderDictionary();
        RecordedHeaders.Apply(RecordedHeaders.Write(headers), shrunk);
        Assert.Equal("abc", shrunk["PAYMENT-RESPONSE"].ToString());
        Assert.False(shrunk.ContainsKey("X-Huge"));
        Assert.False(shrunk.ContainsKey("X-Custom"));
    }
}
