using System.Text;
using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;

namespace X402Serverless.Tests.Support;

/// <summary>
/// Makes Azurite answer a changeset that lost its ETag race (412 UpdateConditionNotSatisfied) with 409
/// EntityAlreadyExists instead, as a store may report a failed entity group transaction: a caller must not take a 409
/// alone as proof that its row is already there.
/// </summary>
internal sealed partial class LostRaceReportedAsConflict : HttpPipelinePolicy
{
    /// <summary>A Table service client on <paramref name="azurite"/> whose batch answers pass through this policy.</summary>
    public static TableServiceClient Client(AzuriteFixture azurite) => azurite.Client(new LostRaceReportedAsConflict());

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ProcessNext(message, pipeline);
        Rewrite(message);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline);
        Rewrite(message);
    }

    private static void Rewrite(HttpMessage message)
    {
        if (!message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal) || message.Response.ContentStream is not { } content)
        {
            return;
        }
        using var reader = new StreamReader(content, Encoding.UTF8);
        var body = reader.ReadToEnd();
        if (body.Contains("UpdateConditionNotSatisfied", StringComparison.Ordinal))
        {
            body = PreconditionFailed().Replace(body, "HTTP/1.1 409 Conflict").Replace("UpdateConditionNotSatisfied", "EntityAlreadyExists", StringComparison.Ordinal);
        }
        message.Response.ContentStream = new MemoryStream(Encoding.UTF8.GetBytes(body));
    }

    [GeneratedRegex(@"HTTP/1\.1 412 [^\r\n]*")]
    private static partial Regex PreconditionFailed();
}
