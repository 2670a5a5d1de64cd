using Microsoft.AspNetCore.DataProtection;
using X402Serverless.Core.Ports;

namespace X402Serverless.Handler.Secrets;

/// <summary>Seals provider secrets with ASP.NET data protection (AES-256-CBC + HMAC, rotating keys).</summary>
internal sealed class DataProtectionSecretSealer(IDataProtectionProvider provider) : ISecretSealer
{
    private readonly IDataProtector _protector = provider.CreateProtector("X402Serverless.UpstreamHeaders.v1");

    public string Seal(string plaintext) => _protector.Protect(plaintext);

    public string Unseal(string sealedText) => _protector.Unprotect(sealedText);
}
