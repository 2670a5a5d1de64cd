using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using MimeKit;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace X402Serverless.Tests.Support;

/// <summary>
/// A real SMTP server (the SmtpServer package) on a loopback port, in this process. What it answers depends on the
/// recipient: "refuse-*" gets 554 (permanent), a recipient in <see cref="Deferred"/> 451 (try again later); every
/// other mail is accepted and parsed with MimeKit into <see cref="Received"/>. It can be started late, on a port
/// chosen before, so a gateway sees it first down and then up.
/// </summary>
internal sealed class TestSmtpServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private SmtpServer.SmtpServer? _server;
    private Task? _running;

    public TestSmtpServer(int? port = null) => Port = port ?? PeerProcess.FreePort();

    public int Port { get; }

    public ConcurrentQueue<MimeMessage> Received { get; } = new();

    /// <summary>Recipients answered 451 for now; remove one to let its mail through.</summary>
    public ConcurrentDictionary<string, int> Deferred { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every DATA the server was sent, accepted or not, per recipient.</summary>
    public ConcurrentDictionary<string, int> Attempts { get; } = new(StringComparer.OrdinalIgnoreCase);

    public static async Task<TestSmtpServer> StartAsync(int? port = null)
    {
        var server = new TestSmtpServer(port);
        await server.StartAsync();
        return server;
    }

    public Task StartAsync()
    {
        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(e => e.Endpoint(new IPEndPoint(IPAddress.Loopback, Port)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(this));
        _server = new SmtpServer.SmtpServer(options, services);
        _running = _server.StartAsync(_stop.Token);
        return WaitListeningAsync();
    }

    public IReadOnlyList<MimeMessage> To(string address) =>
        Received.Where(m => m.To.Mailboxes.Any(b => string.Equals(b.Address, address, StringComparison.OrdinalIgnoreCase))).ToList();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_running is not null)
        {
            await _running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        _stop.Dispose();
    }

    private async Task WaitListeningAsync()
    {
        for (var i = 0; i < 200; i++)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(25);
            }
        }
        throw new InvalidOperationException($"The test SMTP server did not listen on {Port}.");
    }

    private sealed class Store(TestSmtpServer owner) : MessageStore
    {
        public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            var to = transaction.To.Select(m => $"{m.User}@{m.Host}").ToList();
            foreach (var address in to)
            {
                owner.Attempts.AddOrUpdate(address, 1, (_, n) => n + 1);
            }
            if (to.Any(a => a.StartsWith("refuse-", StringComparison.OrdinalIgnoreCase)))
            {
                return Task.FromResult(new SmtpResponse((SmtpReplyCode)554, "Mailbox refuses paid mail"));
            }
            if (to.Any(owner.Deferred.ContainsKey))
            {
                return Task.FromResult(new SmtpResponse((SmtpReplyCode)451, "Try again later"));
            }
            using var stream = new MemoryStream(buffer.ToArray());
            owner.Received.Enqueue(MimeMessage.Load(stream, cancellationToken));
            return Task.FromResult(SmtpResponse.Ok);
        }
    }
}
