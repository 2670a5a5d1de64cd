using Azure.Core;
using Azure.Data.Tables;

namespace X402Serverless.AzureStorage.Tables;

/// <summary>
/// Builds the Table service client: Entra ID (a managed identity in Azure) unless an account key is given, which
/// only emulators such as Azurite need (the deployed account has shared keys off).
/// </summary>
public static class TableStorage
{
    public static TableServiceClient Connect(Uri endpoint, string? accountName, string? accountKey, TokenCredential credential) =>
        string.IsNullOrEmpty(accountKey)
            ? new TableServiceClient(endpoint, credential, Options())
            : new TableServiceClient(endpoint, new TableSharedKeyCredential(accountName ?? EmulatorAccount, accountKey), Options());

    /// <summary>Azurite's well-known account name, used when only a key is configured.</summary>
    public const string EmulatorAccount = "devstoreaccount1";

    // A few exponential retries on transient failures only (408, 429, 5xx, network); 409 and 412 are answers, not faults.
    private static TableClientOptions Options()
    {
        var options = new TableClientOptions();
        options.Retry.MaxRetries = 3;
        options.Retry.Mode = RetryMode.Exponential;
        return options;
    }
}
