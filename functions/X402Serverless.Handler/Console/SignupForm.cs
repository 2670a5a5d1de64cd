namespace X402Serverless.Handler.ProviderConsole;

/// <summary>The wallet sign-up form: a signed EIP-4361 message pasted in, for a provider's organisation or a payer account.</summary>
internal sealed class SignupForm
{
    public string Role { get; set; } = "provider";

    public string? Name { get; set; }

    public string? Message { get; set; }

    public string? Signature { get; set; }
}
