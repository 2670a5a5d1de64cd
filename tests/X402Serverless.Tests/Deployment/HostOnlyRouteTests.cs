using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using X402Serverless.Handler.Functions;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Deployment;

/// <summary>The Functions host's invocation routes exist only under the host and for loopback callers; the console is behind Front Door's id.</summary>
public sealed class HostOnlyRouteTests
{
    private static readonly string[] Routes = ["/SettlementJob", "/Maintenance", "/AllowanceReset", "/StripeEventWorker", "/KycEventWorker", "/InboxDelivery"];

    [Fact]
    public async Task Standalone_the_host_routes_do_not_exist_even_for_the_operator_and_reveal_no_payment()
    {
        await using var gateway = await GatewayHost.StartAsync(Settings());
        foreach (var route in Routes)
        {
            using var response = await gateway.Admin.PostAsync(route,
                new StringContent("""{"Data":{"job":{"paymentId":"pay_probe"}},"Metadata":{}}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("not_found", body.GetProperty("code").GetString());
            Assert.DoesNotContain("pay_probe", body.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Under_the_host_the_routes_answer_loopback_invocations()
    {
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.UnderFunctionsHost(Settings()));
        using var client = gateway.Client();
        foreach (var route in Routes)
        {
            using var response = await client.PostAsync(route, new StringContent("""{"Data":{},"Metadata":{}}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(JsonValueKind.Array, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Logs").ValueKind);
        }
    }

    [Theory]
    [InlineData("10.0.0.7", false)]
    [InlineData("2001:db8::7", false)]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    public async Task Under_the_host_only_a_loopback_caller_reaches_a_route(string remote, bool reaches)
    {
        var filter = new HostInvocationFilter(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["FUNCTIONS_CUSTOMHANDLER_PORT"] = "7071" }).Build());
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        var reached = false;

        var result = await filter.InvokeAsync(new DefaultEndpointFilterInvocationContext(http), _ =>
        {
            reached = true;
            return ValueTask.FromResult<object?>(Results.Ok());
        });

        Assert.Equal(reaches, reached);
        if (!reaches)
        {
            Assert.Equal(StatusCodes.Status404NotFound, Assert.IsAssignableFrom<IStatusCodeHttpResult>(result).StatusCode);
        }
    }

    [Fact]
    public async Task Behind_front_door_the_console_and_every_public_route_need_our_profile_id()
    {
        const string frontDoorId = "11111111-2222-3333-4444-555555555555";
        var settings = Settings();
        settings["X402:FrontDoorId"] = frontDoorId;
        await using var gateway = await GatewayHost.StartAsync(settings);
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(gateway.BaseUrl) };

        foreach (var path in new[] { "/console", "/console/login", "/console/console.css", "/.well-known/x402-kyc", "/l/lnk_missing" })
        {
            using var direct = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.Forbidden, direct.StatusCode);
            Assert.Equal("not_through_front_door", (await direct.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, "/console/login");
        request.Headers.Add("X-Azure-FDID", frontDoorId);
        using var viaFrontDoor = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, viaFrontDoor.StatusCode);
        Assert.Contains("id=\"sign-in\"", await viaFrontDoor.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Settings() => new()
    {
        ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
        ["X402:Settlement:RunWorker"] = "false",
    };
}
