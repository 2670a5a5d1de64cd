using System.Net;
using System.Text.RegularExpressions;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.ProviderConsole;

/// <summary>The console driven over plain HTTP, as a browser would: a cookie jar, forms with their antiforgery token, no redirects followed.</summary>
internal sealed partial class ConsoleSession : IDisposable
{
    private ConsoleSession(GatewayHost gateway)
    {
        Cookies = new CookieContainer();
        Http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false }) { BaseAddress = new Uri(gateway.BaseUrl) };
    }

    public CookieContainer Cookies { get; }

    public HttpClient Http { get; }

    public static ConsoleSession Anonymous(GatewayHost gateway) => new(gateway);

    /// <summary>Signs in with the key and returns the session with the sign-in response (a redirect on success).</summary>
    public static async Task<(ConsoleSession Session, HttpResponseMessage Response)> SignInAsync(GatewayHost gateway, string key)
    {
        var session = new ConsoleSession(gateway);
        var response = await session.PostFormAsync("/console/login", "login", new() { ["Input.Key"] = key });
        return (session, response);
    }

    public static async Task<ConsoleSession> SignedInAsync(GatewayHost gateway, string key)
    {
        var (session, response) = await SignInAsync(gateway, key);
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        response.Dispose();
        return session;
    }

    public async Task<string> TokenAsync(string path)
    {
        using var page = await Http.GetAsync(path);
        var html = await page.Content.ReadAsStringAsync();
        var match = TokenField().Match(html);
        Assert.True(match.Success, $"no antiforgery token on {path} ({(int)page.StatusCode}): {html}");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    /// <summary>Posts a component form (named by <paramref name="handler"/>) with the token its page renders, unless told not to.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string path, string? handler, Dictionary<string, string> fields, bool withToken = true, string? tokenFrom = null)
    {
        var form = new Dictionary<string, string>(fields);
        if (handler is not null)
        {
            form["_handler"] = handler;
        }
        if (withToken)
        {
            form["__RequestVerificationToken"] = await TokenAsync(tokenFrom ?? path);
        }
        using var content = new FormUrlEncodedContent(form);
        return await Http.PostAsync(path, content);
    }

    public async Task<(HttpStatusCode Status, string Html)> GetAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public void Dispose() => Http.Dispose();

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
