namespace X402Serverless.Handler.Hosting;

/// <summary>
/// A secret setting as App Service hands it over: when a Key Vault reference cannot be resolved (the secret is not
/// set yet), the raw "@Microsoft.KeyVault(...)" text arrives instead, which must count as "not configured".
/// </summary>
internal static class SecretValue
{
    public static string? Resolved(string? value) =>
        string.IsNullOrWhiteSpace(value) || value.StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase) ? null : value;
}
