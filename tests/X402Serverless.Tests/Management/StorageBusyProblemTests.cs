using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using X402Serverless.Handler.Hosting;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Management;

/// <summary>
/// A change the store could not make because other instances kept changing its row (the Table ledger's 412 after its
/// retries) reaches the client as a 503 problem it can retry, not as a 500; any other fault stays a 500.
/// </summary>
public sealed class StorageBusyProblemTests
{
    [Fact]
    public async Task A_row_that_kept_changing_under_every_write_is_a_retryable_503_and_other_faults_stay_500()
    {
        var (app, url) = await LoopbackApp.StartAsync(app =>
        {
            app.UseExceptionHandler();
            app.MapGet("/contended", IResult () => throw new Azure.RequestFailedException(412, "Row r kept changing.", "UpdateConditionNotSatisfied", null));
            app.MapGet("/missing", IResult () => throw new Azure.RequestFailedException(404, "Not found.", "ResourceNotFound", null));
        }, services: s => s.AddGatewayProblems());
        await using var _ = app;
        using var http = new HttpClient { BaseAddress = new Uri(url) };

        using var contended = await http.GetAsync("/contended");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, contended.StatusCode);
        Assert.Equal("application/problem+json", contended.Content.Headers.ContentType?.MediaType);
        var problem = await contended.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("storage_busy", problem.GetProperty("code").GetString());
        Assert.Contains("Send the same request again", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Row r", problem.ToString(), StringComparison.Ordinal); // the store's own message stays inside

        using var missing = await http.GetAsync("/missing");
        Assert.Equal(HttpStatusCode.InternalServerError, missing.StatusCode);
        Assert.Equal("internal_error", (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }
}
