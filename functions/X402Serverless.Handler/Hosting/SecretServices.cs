using Microsoft.AspNetCore.DataProtection;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Secrets;

namespace X402Serverless.Handler.Hosting;

/// <summary>Data protection and the sealer for provider secrets: a shared key when configured, else local keys in the data directory.</summary>
internal static class SecretServices
{
    public static IServiceCollection AddSecrets(this IServiceCollection services, GatewayOptions options, string dataDirectory)
    {
        services.AddDataProtection()
            .SetApplicationName("X402Serverless")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDirectory, "keys")));
        if (SecretValue.Resolved(options.SealingKey) is { } sealingKey)
        {
            services.AddSingleton<ISecretSealer>(new AesGcmSecretSealer(sealingKey));
        }
        else
        {
            services.AddSingleton<ISecretSealer, DataProtectionSecretSealer>();
        }
        return services;
    }
}
