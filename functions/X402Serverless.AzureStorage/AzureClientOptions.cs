using Azure.Core;

namespace X402Serverless.AzureStorage;

/// <summary>The pipeline settings every Azure REST client here shares: a few exponential retries on transient failures only.</summary>
internal sealed class AzureClientOptions : ClientOptions
{
    public AzureClientOptions()
    {
        Retry.MaxRetries = 3;
        Retry.Mode = RetryMode.Exponential;
    }
}
