using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using X402Serverless.Tests.ProviderConsole;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Signup;

/// <summary>The console's no-script sign-up page: a viem-signed message pasted into a form (CRLF, as browsers send it).</summary>
public sealed partial class SignupConsoleTests : IAsyncLifetime
{
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayHost.StartAsync(SignupTests.Settings());

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task A_provider_signs_up_on_the_page_gets_its_key_once_and_is_signed_in_to_the_console()
    {
        using var session = ConsoleSession.Anonymous(_gateway);
        using var anonymous = _gateway.Client();
        var page = await (await session.Http.GetAsync("/console/signup")).Content.ReadAsStringAsync();
        Assert.Contains(new Uri(_gateway.BaseUrl).Authority + " wants you to sign in with your Ethereum account:", page);
        var signed = await SiweSigner.SignFreshAsync(anonymous, SiweSigner.NewKey());

        using var done = await session.PostFormAsync("/console/signup", "signup", new()
        {
            ["Input.Role"] = "provider",
            ["Input.Name"] = "Console Co",
            ["Input.Message"] = signed.Message.Replace("\n", "\r\n"),
            ["Input.Signature"] = signed.Signature,
        });
        var html = await done.Content.ReadAsStringAsync();
        Assert.True(HttpStatusCode.OK == done.StatusCode, html);
        var key = KeyOnPage().Match(html).Groups[1].Value;
        Assert.StartsWith("x402sk_", key);
        Assert.DoesNotContain(signed.Signature, html);

        using var dashboard = await session.Http.GetAsync("/console");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Contains("Console Co", await dashboard.Content.ReadAsStringAsync());
        using var api = _gateway.Client(key);
        Assert.Equal("Console Co", (await api.GetFromJsonAsync<JsonElement>("/api/organisation")).GetProperty("name").GetString());

        // The same message again: its nonce is used.
        using var replay = await session.PostFormAsync("/console/signup", "signup", new()
        {
            ["Input.Role"] = "provider", ["Input.Message"] = signed.Message, ["Input.Signature"] = signed.Signature,
        });
        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        Assert.Contains("already used", await replay.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_payer_signs_up_on_the_page_and_its_key_reads_api_me()
    {
        using var session = ConsoleSession.Anonymous(_gateway);
        using var anonymous = _gateway.Client();
        var signed = await SiweSigner.SignFreshAsync(anonymous, SiweSigner.NewKey(), "payer");

        using var done = await session.PostFormAsync("/console/signup", "signup", new()
        {
            ["Input.Role"] = "payer", ["Input.Message"] = signed.Message, ["Input.Signature"] = signed.Signature,
        });
        var html = await done.Content.ReadAsStringAsync();
        Assert.True(HttpStatusCode.OK == done.StatusCode, html);
        var key = KeyOnPage().Match(html).Groups[1].Value;
        Assert.StartsWith("x402pk_", key);
        using var payer = _gateway.Client(key);
        Assert.Equal(HttpStatusCode.OK, (await payer.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task A_bad_signature_is_refused_on_the_page_and_a_closed_gateway_shows_no_form()
    {
        using var session = ConsoleSession.Anonymous(_gateway);
        using var anonymous = _gateway.Client();
        var signed = await SiweSigner.SignFreshAsync(anonymous, SiweSigner.NewKey());
        using var refused = await session.PostFormAsync("/console/signup", "signup", new()
        {
            ["Input.Role"] = "provider", ["Input.Message"] = signed.Message, ["Input.Signature"] = "0x00",
        });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("id=\"signup-error\"", await refused.Content.ReadAsStringAsync());

        var settings = SignupTests.Settings();
        settings["X402:Signup:Open"] = "false";
        await using var closed = await GatewayHost.StartAsync(settings);
        using var closedSession = ConsoleSession.Anonymous(closed);
        using var page = await closedSession.Http.GetAsync("/console/signup");
        Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("signup-closed", html);
        Assert.DoesNotContain("Input.Message", html);
    }

    [GeneratedRegex("<code id=\"new-key\">([^<]+)</code>")]
    private static partial Regex KeyOnPage();
}
