using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace X402Serverless.Tests.Support;

/// <summary>
/// A headless Chromium driven through chromedriver's W3C WebDriver JSON protocol. The browser is a required part of
/// the console tests: a missing chromedriver fails them, it never skips them.
/// </summary>
internal sealed class WebDriver : IAsyncDisposable
{
    private const string ElementKey = "element-6066-11e4-a52e-4f735466cecf";

    private readonly PeerProcess _driver;
    private readonly HttpClient _http;
    private readonly string _session;

    private WebDriver(PeerProcess driver, HttpClient http, string session)
    {
        _driver = driver;
        _http = http;
        _session = session;
    }

    public static async Task<WebDriver> StartAsync()
    {
        var executable = FindChromedriver() ?? throw new InvalidOperationException(
            "chromedriver is required for the console's browser tests: apt-get install chromium chromium-driver (.ci/run does this).");
        var port = PeerProcess.FreePort();
        var driver = PeerProcess.Start(executable, Path.GetTempPath(), $"--port={port}");
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
        try
        {
            await WaitReadyAsync(http, driver);
            var options = new JsonObject { ["args"] = new JsonArray("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000") };
            if (File.Exists("/usr/bin/chromium"))
            {
                options["binary"] = "/usr/bin/chromium";
            }
            var capabilities = new JsonObject
            {
                ["capabilities"] = new JsonObject
                {
                    ["alwaysMatch"] = new JsonObject { ["browserName"] = "chrome", ["goog:chromeOptions"] = options },
                },
            };
            var created = await SendAsync(http, HttpMethod.Post, "/session", capabilities);
            var session = created.GetProperty("sessionId").GetString()!;
            // A click that submits a form returns before the next page loads: finding waits for what that page shows.
            await SendAsync(http, HttpMethod.Post, $"/session/{session}/timeouts", new JsonObject { ["implicit"] = 5000 });
            return new WebDriver(driver, http, session);
        }
        catch
        {
            http.Dispose();
            await driver.DisposeAsync();
            throw;
        }
    }

    public Task NavigateAsync(string url) => CommandAsync(HttpMethod.Post, "/url", new JsonObject { ["url"] = url });

    public async Task<string> CurrentUrlAsync() => (await CommandAsync(HttpMethod.Get, "/url")).GetString()!;

    /// <summary>Waits (up to 10 s) until the browser is on a URL that satisfies <paramref name="arrived"/>: a click that navigates returns before the next page loads.</summary>
    public async Task<string> WaitForUrlAsync(Func<string, bool> arrived)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var url = await CurrentUrlAsync();
            if (arrived(url))
            {
                return url;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The browser stayed on {url}.");
            }
            await Task.Delay(50);
        }
    }

    public async Task<string> PageSourceAsync() => (await CommandAsync(HttpMethod.Get, "/source")).GetString()!;

    public async Task<string> TitleAsync() => (await CommandAsync(HttpMethod.Get, "/title")).GetString()!;

    public async Task<Element> FindAsync(string css) =>
        await TryFindAsync(css) ?? throw new InvalidOperationException($"No element matches '{css}' on {await CurrentUrlAsync()}:\n{await PageSourceAsync()}");

    /// <summary>The first match, waiting up to the implicit timeout for it to appear; null if it never does.</summary>
    public async Task<Element?> TryFindAsync(string css)
    {
        var found = await CommandAsync(HttpMethod.Post, "/elements", new JsonObject { ["using"] = "css selector", ["value"] = css });
        return found.GetArrayLength() == 0 ? null : new Element(this, found[0].GetProperty(ElementKey).GetString()!);
    }

    /// <summary>
    /// The first match's text. A click that navigates returns before the next page loads, so an element found on the old
    /// page may be gone when read: it is then found again on the new one (for up to 10 s).
    /// </summary>
    public async Task<string> TextAsync(string css)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                return await (await FindAsync(css)).TextAsync();
            }
            catch (InvalidOperationException e) when (IsStale(e) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>
    /// Whether a command failed because its element left the document (chromedriver says "stale element reference", or,
    /// when the page is replaced mid-command, "Node with given id does not belong to the document").
    /// </summary>
    internal static bool IsStale(InvalidOperationException e) =>
        e.Message.Contains("stale element", StringComparison.Ordinal) || e.Message.Contains("does not belong to the document", StringComparison.Ordinal);

    /// <summary>Clears a field and types into it.</summary>
    public async Task FillAsync(string css, string text)
    {
        var element = await FindAsync(css);
        await element.ClearAsync();
        await element.SendKeysAsync(text);
    }

    public async Task ClickAsync(string css) => await (await FindAsync(css)).ClickAsync();

    /// <summary>The browser's cookies for the current page, as WebDriver reports them (name, path, httpOnly, sameSite, secure...).</summary>
    public async Task<IReadOnlyList<JsonElement>> CookiesAsync() => [.. (await CommandAsync(HttpMethod.Get, "/cookie")).EnumerateArray()];

    /// <summary>A PNG of the visible page, saved to <paramref name="path"/>; returns its bytes.</summary>
    public async Task<byte[]> ScreenshotAsync(string path)
    {
        var png = Convert.FromBase64String((await CommandAsync(HttpMethod.Get, "/screenshot")).GetString()!);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllBytesAsync(path, png);
        return png;
    }

    public Task DeleteCookiesAsync() => CommandAsync(HttpMethod.Delete, "/cookie");

    /// <summary>
    /// Sends these headers on every request the browser makes from now on, navigations included (Chrome DevTools'
    /// Network.setExtraHTTPHeaders), as a paying browser extension would.
    /// </summary>
    public async Task SetExtraHeadersAsync(IReadOnlyDictionary<string, string> headers)
    {
        var values = new JsonObject();
        foreach (var (name, value) in headers)
        {
            values[name] = value;
        }
        await CommandAsync(HttpMethod.Post, "/goog/cdp/execute", new JsonObject { ["cmd"] = "Network.enable", ["params"] = new JsonObject() });
        await CommandAsync(HttpMethod.Post, "/goog/cdp/execute",
            new JsonObject { ["cmd"] = "Network.setExtraHTTPHeaders", ["params"] = new JsonObject { ["headers"] = values } });
    }

    /// <summary>Runs a script in the page (its arguments as <c>arguments[i]</c>) and returns what it returns.</summary>
    public Task<JsonElement> ExecuteAsync(string script, params JsonNode?[] args) =>
        CommandAsync(HttpMethod.Post, "/execute/sync", new JsonObject { ["script"] = script, ["args"] = new JsonArray(args) });

    /// <summary>A Chrome DevTools command (e.g. Page.addScriptToEvaluateOnNewDocument, Emulation.setScriptExecutionDisabled).</summary>
    public Task<JsonElement> DevToolsAsync(string command, JsonObject parameters) =>
        CommandAsync(HttpMethod.Post, "/goog/cdp/execute", new JsonObject { ["cmd"] = command, ["params"] = parameters });

    public async ValueTask DisposeAsync()
    {
        try
        {
            await CommandAsync(HttpMethod.Delete, "");
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or TaskCanceledException)
        {
            // The driver is killed next anyway.
        }
        _http.Dispose();
        await _driver.DisposeAsync();
    }

    private Task<JsonElement> CommandAsync(HttpMethod method, string path, JsonNode? body = null) =>
        SendAsync(_http, method, $"/session/{_session}{path}", body);

    private static async Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, string path, JsonNode? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null || method == HttpMethod.Post)
        {
            // chromedriver's server wants a Content-Length: a buffered string, not a chunked JSON stream.
            request.Content = new StringContent((body ?? new JsonObject()).ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        }
        using var response = await http.SendAsync(request);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        var value = json.GetProperty("value");
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"WebDriver {method} {path} failed ({(int)response.StatusCode}): {value}");
        }
        return value.Clone();
    }

    private static async Task WaitReadyAsync(HttpClient http, PeerProcess driver)
    {
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var response = await http.GetAsync("/status");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException("chromedriver did not start: " + driver.Output);
    }

    private static string? FindChromedriver() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Append("/usr/lib/chromium")
            .Select(dir => Path.Combine(dir, "chromedriver"))
            .FirstOrDefault(File.Exists);

    /// <summary>One element of the current page.</summary>
    internal sealed class Element(WebDriver driver, string id)
    {
        public Task ClickAsync() => driver.CommandAsync(HttpMethod.Post, $"/element/{id}/click", new JsonObject());

        public Task ClearAsync() => driver.CommandAsync(HttpMethod.Post, $"/element/{id}/clear", new JsonObject());

        public Task SendKeysAsync(string text) => driver.CommandAsync(HttpMethod.Post, $"/element/{id}/value", new JsonObject { ["text"] = text });

        public async Task<string> TextAsync() => (await driver.CommandAsync(HttpMethod.Get, $"/element/{id}/text")).GetString()!;

        /// <summary>The computed value of a CSS property, e.g. "font-weight" → "700".</summary>
        public async Task<string> CssAsync(string name) => (await driver.CommandAsync(HttpMethod.Get, $"/element/{id}/css/{name}")).GetString()!;

        public async Task<string?> PropertyAsync(string name)
        {
            var value = await driver.CommandAsync(HttpMethod.Get, $"/element/{id}/property/{name}");
            return value.ValueKind == JsonValueKind.Null ? null : value.ToString();
        }
    }
}
