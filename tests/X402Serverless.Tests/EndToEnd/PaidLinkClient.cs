using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>Plain HTTP against a paid URL: fetch the 402, send a header, read the x402 answer.</summary>
internal static class PaidLinkClient
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public static async Task<JsonObject> RequirementAsync(string url)
    {
        using var response = await Http.GetAsync(url);
        Assert.Equal(402, (int)response.StatusCode);
        return PaymentBuilder.RequirementFrom(response);
    }

    public static async Task<HttpResponseMessage> SendAsync(string url, string header, int version = 2)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation(version == 2 ? "PAYMENT-SIGNATURE" : "X-PAYMENT", header);
        return await Http.SendAsync(request);
    }

    /// <summary>Sends the same header <paramref name="count"/> times, all released at once; returns the statuses.</summary>
    public static async Task<int[]> SendConcurrentlyAsync(string url, string header, int count)
    {
        using var start = new ManualResetEventSlim();
        var sends = Enumerable.Range(0, count).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            using var response = await SendAsync(url, header);
            return (int)response.StatusCode;
        })).ToList();
        start.Set();
        return await Task.WhenAll(sends);
    }

    /// <summary>The x402 "error" of a 402: from the v2 header, checked equal to the v1 body's.</summary>
    public static async Task<string> ErrorOfAsync(HttpResponseMessage response)
    {
        Assert.Equal(402, (int)response.StatusCode);
        var required = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(response.Headers.GetValues("PAYMENT-REQUIRED").Single())))!;
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var error = required["error"]!.GetValue<string>();
        Assert.Equal(error, body.GetProperty("error").GetString());
        Assert.Equal(1, body.GetProperty("x402Version").GetInt32());
        return error;
    }

    public static async Task<string> ProblemCodeAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString()!;
    }

    public static JsonElement SettlementOf(HttpResponseMessage response, string header = "PAYMENT-RESPONSE") =>
        JsonDocument.Parse(Convert.FromBase64String(response.Headers.GetValues(header).Single())).RootElement.Clone();
}
