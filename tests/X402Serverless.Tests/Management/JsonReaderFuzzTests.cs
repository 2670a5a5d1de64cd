using System.Text.Json;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Management;

/// <summary>
/// Property: whatever a client does to a valid body of any JSON route (lone surrogates, truncation, deep nesting,
/// wrong kinds, huge numbers, random bytes), the answer is never a 5xx; an error is a problem with a stable
/// snake_case code, and a body that is certainly malformed gets exactly the route's malformed-body code.
/// Seeded, so each run checks the same cases.
/// </summary>
public sealed partial class JsonReaderFuzzTests(JsonInputFixture fixture) : IClassFixture<JsonInputFixture>
{
    private const int CasesPerRoute = 60;

    [Theory]
    [MemberData(nameof(JsonInputTests.RouteIndexes), MemberType = typeof(JsonInputTests))]
    public void No_mutation_of_a_valid_body_gets_a_5xx(int index)
    {
        var route = fixture.Routes[index];
        Prop.ForAll(JsonMutations.Of(route.ValidBody).ToArbitrary(), mutation => Check(route, mutation).GetAwaiter().GetResult())
            .Check(JsonMutations.Seeded(CasesPerRoute, seed: 0x402UL + (ulong)index));
    }

    private async Task<bool> Check(JsonRoute route, JsonMutation mutation)
    {
        using var response = await fixture.SendAsync(route, mutation.Bytes);
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync();
        var where = $"{route} {mutation} -> {status}: {text}";
        Assert.True(status < 500, where);
        if (mutation.AlwaysMalformed)
        {
            Assert.True(status == 400, where);
        }
        if (status >= 400)
        {
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", where);
            var code = JsonDocument.Parse(text).RootElement.GetProperty("code").GetString() ?? "";
            Assert.True(StableCode().IsMatch(code) && code != "internal_error", where);
            Assert.True(!mutation.AlwaysMalformed || code == route.MalformedCode, where);
        }
        return true;
    }

    [GeneratedRegex("^[a-z0-9]+(_[a-z0-9]+)*$")]
    private static partial Regex StableCode();
}
