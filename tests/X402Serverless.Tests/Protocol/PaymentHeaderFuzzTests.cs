using System.Net.Http.Json;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using X402Serverless.Core.Protocol;
using X402Serverless.Tests.Management;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Protocol;

/// <summary>
/// Property: a mutated PAYMENT-SIGNATURE (v2) or X-PAYMENT (v1) header (lone surrogates, truncation, deep nesting,
/// wrong kinds, huge numbers, random bytes, broken base64) never throws in the decoder and never makes the paid
/// URL answer 5xx: it is a 402 whose reason is one of the protocol's reason codes. Seeded, so runs repeat exactly.
/// </summary>
public sealed class PaymentHeaderFuzzTests(JsonInputFixture fixture) : IClassFixture<JsonInputFixture>
{
    private const string V2 = """{"x402Version":2,"resource":{"url":"https://pay.example.test/l/x"},"accepted":{"scheme":"exact","network":"eip155:84532","amount":"10000","asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","maxTimeoutSeconds":300,"extra":{"name":"USDC","version":"2"}},"payload":{"signature":"0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c","authorization":{"from":"0x857b06519E91e3A54538791bDbb0E22373e36b66","to":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","value":"10000","validAfter":"1740672089","validBefore":"1740672154","nonce":"0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"}}}""";

    private const string V1 = """{"x402Version":1,"scheme":"exact","network":"base-sepolia","payload":{"signature":"0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c","authorization":{"from":"0x857b06519E91e3A54538791bDbb0E22373e36b66","to":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","value":"10000","validAfter":"1740672089","validBefore":"1740672154","nonce":"0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"}}}""";

    // Every reason the protocol layer can give (public string constants of ReasonCodes).
    private static readonly HashSet<string> Reasons = typeof(ReasonCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()!).ToHashSet();

    /// <summary>The header as sent: base64 of the mutated bytes, or (sometimes) the base64 itself broken.</summary>
    private static Gen<string> Headers(string json) =>
        from mutation in JsonMutations.Of(json)
        from cut in Gen.Choose(0, 9)
        let header = Convert.ToBase64String(mutation.Bytes)
        select cut == 0 && header.Length > 1 ? header[..^1] + "!" : header;

    [Theory]
    [InlineData(2, V2)]
    [InlineData(1, V1)]
    public void The_decoder_never_throws_and_refuses_with_a_reason_code(int version, string json) =>
        Prop.ForAll(Headers(json).ToArbitrary(), header =>
            {
                var result = PaymentHeaderDecoder.Decode(header, version);
                return result.Payment is not null || (result.Reason is { } reason && Reasons.Contains(reason));
            })
            .Check(JsonMutations.Seeded(2_000, seed: 0x3009UL + (ulong)version));

    [Fact]
    public void A_lone_surrogate_anywhere_in_the_header_is_refused_not_thrown()
    {
        foreach (var (field, version, json) in new[] { ("\"exact\"", 2, V2), ("\"eip155:84532\"", 2, V2), ("\"USDC\"", 2, V2), ("\"https://pay.example.test/l/x\"", 2, V2), ("\"base-sepolia\"", 1, V1) })
        {
            var broken = json.Replace(field, "\"\\ud800\"", StringComparison.Ordinal);
            Assert.Equal(ReasonCodes.InvalidPaymentHeader, PaymentHeaderDecoder.Decode(Convert.ToBase64String(Encoding.UTF8.GetBytes(broken)), version).Reason);
            // A payload parsed elsewhere (a facilitator request) is checked again before any field is read.
            Assert.Equal(ReasonCodes.InvalidPayload, PaymentHeaderDecoder.FromJson(JsonDocument.Parse(broken).RootElement, version).Reason);
        }
    }

    [Theory]
    [InlineData("PAYMENT-SIGNATURE", V2)]
    [InlineData("X-PAYMENT", V1)]
    public async Task The_paid_url_answers_every_mutated_header_with_a_402_and_a_reason(string headerName, string json)
    {
        var (id, _) = await fixture.Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/x", price = "0.01", payTo = JsonInputFixture.PayTo });
        var url = $"/l/{id}";
        using var client = fixture.Gateway.Client();
        Prop.ForAll(Headers(json).ToArbitrary(), header => SendAsync(client, url, headerName, header).GetAwaiter().GetResult())
            .Check(JsonMutations.Seeded(150, seed: 0x402UL + (ulong)headerName.Length));
    }

    private static async Task<bool> SendAsync(HttpClient client, string url, string headerName, string header)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation(headerName, header);
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(402 == (int)response.StatusCode, $"{header} -> {(int)response.StatusCode}: {body}");
        var reason = JsonNode.Parse(body)?["error"]?.GetValue<string>();
        Assert.True(reason is not null && Reasons.Contains(reason), $"{header} -> {body}");
        return true;
    }
}
