using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.ProviderConsole;

/// <summary>The audit page and role-aware navigation in a real headless Chromium.</summary>
public sealed class ConsoleAuditBrowserTests(ConsoleBrowserFixture fixture) : IClassFixture<ConsoleBrowserFixture>
{
    private GatewayHost Gateway => fixture.Gateway;

    private WebDriver Browser => fixture.Browser;

    private async Task SignInAsync(string key)
    {
        await Browser.NavigateAsync(Gateway.BaseUrl + "/console/console.css");
        await Browser.DeleteCookiesAsync();
        await Browser.NavigateAsync(Gateway.BaseUrl + "/console/login");
        await Browser.FillAsync("#key", key);
        await Browser.ClickAsync("#sign-in");
        Assert.NotNull(await Browser.TryFindAsync("#sign-out"));
    }

    [Fact]
    public async Task A_read_only_key_reads_the_audit_log_filters_it_and_gets_no_edit_forms()
    {
        var (_, admin) = await fixture.NewOrganisationAsync("Audit Browser");
        var (_, other) = await fixture.NewOrganisationAsync("Audit Elsewhere");
        using (admin)
        using (other)
        {
            var (id, _) = await fixture.CreateLinkAsync(admin, "Audited API");
            using (var patch = await admin.PatchAsJsonAsync($"/api/links/{id}", new { name = "Audited API v2" }))
            {
                patch.EnsureSuccessStatusCode();
            }
            var (theirs, _) = await fixture.CreateLinkAsync(other, "Not yours");
            await SignInAsync(await ConsoleRolesTests.NewKeyAsync(admin, "read-only"));

            Assert.Equal("read-only", await Browser.TextAsync("#key-role"));
            Assert.Null(await Browser.TryFindAsync("#nav-new-link"));
            Assert.Null(await Browser.TryFindAsync("#nav-import"));
            await Browser.NavigateAsync($"{Gateway.BaseUrl}/console/links/{id}");
            Assert.Null(await Browser.TryFindAsync("#edit-link-form"));
            Assert.Contains("cannot edit links", await Browser.TextAsync("#role-notice"), StringComparison.Ordinal);

            await Browser.ClickAsync("#nav-audit");
            // Newest first: the read-only key's own creation leads.
            Assert.Equal("key.create", await Browser.TextAsync("#audit tbody tr .action"));
            await Browser.FillAsync("#targetType", "link");
            await Browser.ClickAsync("#audit-apply");
            await Browser.WaitForUrlAsync(u => u.Contains("targetType=link", StringComparison.Ordinal));
            var rows = await Browser.PageSourceAsync();
            Assert.DoesNotContain(theirs, rows, StringComparison.Ordinal);
            var first = await Browser.FindAsync("#audit tbody tr");
            var entryId = (await first.PropertyAsync("id"))!;
            Assert.Equal("link.update", await Browser.TextAsync($"#{entryId} .action"));
            Assert.Contains("Audited API v2", await Browser.TextAsync($"#{entryId} .after"), StringComparison.Ordinal);
            Assert.Contains("(admin)", await Browser.TextAsync($"#{entryId} .actor"), StringComparison.Ordinal);
            Assert.StartsWith("succeeded", await Browser.TextAsync($"#{entryId} .outcome"), StringComparison.Ordinal);

            await Browser.FillAsync("#targetType", "");
            await Browser.FillAsync("#action", "link.create");
            await Browser.ClickAsync("#audit-apply");
            await Browser.WaitForUrlAsync(u => u.Contains("action=link.create", StringComparison.Ordinal));
            var filtered = await Browser.FindAsync("#audit tbody tr");
            Assert.Equal("link.create", await Browser.TextAsync($"#{await filtered.PropertyAsync("id")} .action"));
            Assert.Equal("/console/audit.csv?action=link.create", new Uri(await (await Browser.FindAsync("#audit-csv")).PropertyAsync("href") ?? "").PathAndQuery);

            var artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");
            var png = await Browser.ScreenshotAsync(Path.Combine(artifacts, "console-audit.png"));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        }
    }

    [Fact]
    public async Task A_developer_has_link_forms_but_no_audit_or_payers_in_the_navigation()
    {
        var (_, admin) = await fixture.NewOrganisationAsync("Developer Browser");
        using (admin)
        {
            await SignInAsync(await ConsoleRolesTests.NewKeyAsync(admin, "developer"));
            Assert.Equal("developer", await Browser.TextAsync("#key-role"));
            Assert.NotNull(await Browser.TryFindAsync("#nav-new-link"));
            Assert.Null(await Browser.TryFindAsync("#nav-audit"));
            Assert.Null(await Browser.TryFindAsync("#nav-payers"));
            await Browser.NavigateAsync(Gateway.BaseUrl + "/console/audit");
            Assert.Contains("cannot read the audit log", await Browser.TextAsync("#role-notice"), StringComparison.Ordinal);
        }
    }
}
