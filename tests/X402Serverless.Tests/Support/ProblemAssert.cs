using System.Text.Json;

namespace X402Serverless.Tests.Support;

/// <summary>Asserts a response is an RFC 9457 problem with the exact status and stable code, and no stack trace.</summary>
internal static class ProblemAssert
{
    public static async Task IsAsync(HttpResponseMessage response, int status, string code, string? context = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        var where = $"{context} -> {(int)response.StatusCode}: {Shorten(text)}";
        Assert.True(status == (int)response.StatusCode, $"expected {status} {code}; {where}");
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"not a problem; {where}");
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        Assert.True(code == JsonDocument.Parse(text).RootElement.GetProperty("code").GetString(), $"expected code {code}; {where}");
    }

    private static string Shorten(string text) => text.Length > 400 ? text[..400] + "…" : text;
}
