namespace X402Serverless.Core.Ports;

/// <summary>Encrypts provider secrets at rest (local data-protection keys, or Key Vault-backed keys in Azure).</summary>
public interface ISecretSealer
{
    string Seal(string plaintext);

    string Unseal(string sealedText);
}
