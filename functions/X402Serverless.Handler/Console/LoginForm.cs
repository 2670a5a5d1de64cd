namespace X402Serverless.Handler.ProviderConsole;

/// <summary>The sign-in form. The key is cleared after the check so it is never rendered back.</summary>
internal sealed class LoginForm
{
    public string? Key { get; set; }
}
