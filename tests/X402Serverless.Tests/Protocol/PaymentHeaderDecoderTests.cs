using System.Text;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Tests.Protocol;

public sealed class PaymentHeaderDecoderTests
{
    private const string Authorization =
        """{"from":"0x857b06519E91e3A54538791bDbb0E22373e36b66","to":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","value":"10000","validAfter":"1740672089","validBefore":"1740672154","nonce":"0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"}""";

    private const string Signature =
        "0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c";

    private static string B64(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json));

    private static string V1(string authorization = Authorization, string signature = Signature) =>
        "{\"x402Version\":1,\"scheme\":\"exact\",\"network\":\"base-sepolia\",\"payload\":{\"signature\":\"" + signature + "\",\"authorization\":" + authorization + "}}";

    [Fact]
    public void Decodes_the_spec_v1_payment()
    {
        var result = PaymentHeaderDecoder.Decode(B64(V1()), 1);
        Assert.NotNull(result.Payment);
        Assert.Equal("base-sepolia", result.Payment.Network);
        Assert.Equal(10_000, result.Payment.Authorization.Value);
        Assert.Equal(65, result.Payment.Signature.Length);
        Assert.Null(result.Payment.Accepted);
    }

    [Fact]
    public void Decodes_a_v2_payment_and_keeps_the_echoed_requirement()
    {
        var json = "{\"x402Version\":2,\"accepted\":{\"scheme\":\"exact\",\"network\":\"eip155:84532\",\"amount\":\"10000\"},\"payload\":{\"signature\":\"" + Signature + "\",\"authorization\":" + Authorization + "}}";
        var result = PaymentHeaderDecoder.Decode(B64(json), 2);
        Assert.Equal("eip155:84532", result.Payment?.Network);
        Assert.Equal("10000", result.Payment?.Accepted?.GetProperty("amount").GetString());
    }

    [Theory]
    [InlineData("not base64!!", "invalid_payment_header")]
    [InlineData("", "invalid_payment_header")]
    [InlineData("bm90IGpzb24=", "invalid_payment_header")] // "not json"
    public void Undecodable_headers_get_invalid_payment_header(string header, string reason) =>
        Assert.Equal(reason, PaymentHeaderDecoder.Decode(header, 2).Reason);

    [Fact]
    public void An_oversized_header_is_refused_before_decoding() =>
        Assert.Equal("invalid_payment_header", PaymentHeaderDecoder.Decode(new string('A', 20_000), 2).Reason);

    [Theory]
    [InlineData("[]")]
    [InlineData("""{"scheme":"exact"}""")]
    [InlineData("""{"x402Version":"1","scheme":"exact","network":"base-sepolia","payload":{}}""")]
    [InlineData("""{"x402Version":1,"network":"base-sepolia","payload":{}}""")]
    [InlineData("""{"x402Version":1,"scheme":"exact","network":"base-sepolia"}""")]
    public void Wrong_json_shapes_get_invalid_payload(string json) =>
        Assert.Equal("invalid_payload", PaymentHeaderDecoder.Decode(B64(json), 1).Reason);

    [Fact]
    public void A_version_that_does_not_fit_its_header_is_refused() =>
        Assert.Equal("invalid_x402_version", PaymentHeaderDecoder.Decode(B64(V1()), 2).Reason);

    [Fact]
    public void A_v2_payment_without_accepted_is_refused()
    {
        var json = "{\"x402Version\":2,\"payload\":{\"signature\":\"" + Signature + "\",\"authorization\":" + Authorization + "}}";
        Assert.Equal("invalid_payload", PaymentHeaderDecoder.Decode(B64(json), 2).Reason);
    }

    [Theory]
    [InlineData("\"value\":\"10000\"", "\"value\":10000")] // numbers must be strings
    [InlineData("\"value\":\"10000\"", "\"value\":\"-1\"")]
    [InlineData("\"value\":\"10000\"", "\"value\":\"1e4\"")]
    [InlineData("0x857b06519E91e3A54538791bDbb0E22373e36b66", "0x857b06519E91e3A54538791bDbb0E22373e36b6")]
    [InlineData("0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480", "0xf374")]
    [InlineData("\"validBefore\":\"1740672154\"", "\"validBefore\":\"999999999999999999999999999999999999999999999999999999999999999999999999999999\"")]
    public void Malformed_authorization_fields_are_refused(string original, string broken) =>
        Assert.Equal("invalid_payload", PaymentHeaderDecoder.Decode(B64(V1(Authorization.Replace(original, broken, StringComparison.Ordinal))), 1).Reason);

    [Fact]
    public void A_signature_that_is_not_hex_is_refused() =>
        Assert.Equal("invalid_payload", PaymentHeaderDecoder.Decode(B64(V1(signature: "0xzz")), 1).Reason);
}
