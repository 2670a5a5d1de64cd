using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Handler.Hosting;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Management;

/// <summary>
/// A ledger row that kept changing under every write (the Table ledger giving up after its retries) reaches the client
/// as a 503 problem saying what became of the request, not as a 500; any other fault stays a 500.
/// </summary>
public sealed class LedgerBusyProblemTests
{
    [Fact]
    public async Task A_ledger_row_that_kept_changing_under_every_write_is_a_503_saying_what_became_of_the_request_and_other_faults_stay_500()
    {
        var (app, url) = await LoopbackApp.StartAsync(app =>
        {
            app.UseExceptionHandler();
            app.MapGet("/contended", IResult () => throw new RowContendedException("Row credits:p_secret kept changing under every write for 50 tries; the last try changed nothing."));
            app.MapGet("/other-412", IResult () => throw new Azure.RequestFailedException(412, "Precondition failed.", "UpdateConditionNotSatisfied", null));
            app.MapGet("/missing", IResult () => throw new Azure.RequestFailedException(404, "Not found.", "ResourceNotFound", null));
        }, services: s => s.AddGatewayProblems());
        await using var _ = app;
        using var http = new HttpClient { BaseAddress = new Uri(url) };

        using var contended = await http.GetAsync("/contended");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, contended.StatusCode);
        Assert.Equal("application/problem+json", contended.Content.Headers.ContentType?.MediaType);
        var problem = await contended.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("ledger_busy", problem.GetProperty("code").GetString());
        Assert.Contains("Check the outcome", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(30), contended.Headers.RetryAfter?.Delta); // when to look again, not "never"
        Assert.DoesNotContain("p_secret", problem.ToString(), StringComparison.Ordinal); // the row's key stays inside

        // Any other 412 (a store's own conditional write) is not the ledger's and says nothing it cannot know.
        using var other = await http.GetAsync("/other-412");
        Assert.Equal(HttpStatusCode.InternalServerError, other.StatusCode);
        Assert.Null(other.Headers.RetryAfter);

        using var missing = await http.GetAsync("/missing");
        Assert.Equal(HttpStatusCode.InternalServerError, missing.StatusCode);
        Assert.Equal("internal_error", (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }
}
