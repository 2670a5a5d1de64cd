using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Inbox;

/// <summary>What one SMTP attempt did: accepted, worth retrying (4xx, unreachable, timed out), or refused for good (5xx).</summary>
internal enum SendOutcome
{
    Sent,
    Transient,
    Permanent,
}

/// <summary>Sends one mail through the configured SMTP relay with MailKit; classifies a failure rather than throwing it.</summary>
internal sealed class SmtpMailer(IOptions<InboxOptions> options)
{
    public bool Configured => !string.IsNullOrWhiteSpace(options.Value.SmtpHost);

    public async Task<(SendOutcome Outcome, string? Error)> SendAsync(MimeMessage mail, CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!Configured)
        {
            return (SendOutcome.Transient, "No SMTP server is configured (X402:Inbox:SmtpHost).");
        }
        using var client = new SmtpClient { Timeout = (int)TimeSpan.FromSeconds(o.SmtpTimeoutSeconds).TotalMilliseconds };
        try
        {
            await client.ConnectAsync(o.SmtpHost!, o.SmtpPort, Security(o.SmtpSecurity), cancellationToken);
            if (!string.IsNullOrEmpty(o.SmtpUserName) && SecretValue.Resolved(o.SmtpPassword) is { } password)
            {
                await client.AuthenticateAsync(o.SmtpUserName, password, cancellationToken);
            }
            await client.SendAsync(mail, cancellationToken);
            await client.DisconnectAsync(quit: true, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return (SendOutcome.Sent, null);
        }
        catch (SmtpCommandException e)
        {
            // The server's own verdict: 5xx is final for this message, 4xx (greylisting, full mailbox) passes.
            var code = (int)e.StatusCode;
            return (code >= 500 ? SendOutcome.Permanent : SendOutcome.Transient, $"SMTP {code}: {e.Message}");
        }
        catch (Exception e) when (e is SocketException or IOException or SmtpProtocolException or ServiceNotConnectedException
            or AuthenticationException or SslHandshakeException or TimeoutException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The relay is down, slow or misconfigured: the message itself is not at fault, so it waits and is retried.
            return (SendOutcome.Transient, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private static SecureSocketOptions Security(string value) => value.ToLowerInvariant() switch
    {
        "none" => SecureSocketOptions.None,
        "tls" => SecureSocketOptions.SslOnConnect,
        "auto" => SecureSocketOptions.StartTlsWhenAvailable,
        _ => SecureSocketOptions.StartTls,
    };
}
