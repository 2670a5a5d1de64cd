using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Charges;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Links;
using X402Serverless.Core.Payers;
using X402Serverless.Core.Payments;
using X402Serverless.Handler.Forwarding;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Paywall;
using X402Serverless.Handler.Usage;
using X402Serverless.Sqlite;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Paywall;

/// <summary>
/// The paid pipeline's capture/release decisions, on real SQLite stores and a real forwarder in front of a stub
/// upstream: a charge is captured once when the answer is charged, released exactly once otherwise, whatever fails.
/// </summary>
public sealed class PaidCallPipelineTests : IAsyncDisposable
{
    private const long Price = 10_000;
    private const long Funded = 1_000_000;

    private readonly SqliteDatabase _database = new(Path.Combine(Path.GetTempPath(), "x402-pipeline-" + Guid.NewGuid().ToString("N"), "x402.db"));
    private readonly SqliteLedger _ledger;
    private readonly CreditCharges _credits;
    private readonly Payer _payer = new() { Id = "payer_1", OrganisationId = "org_payer", Name = "Payer", CreatedAt = DateTimeOffset.UnixEpoch };

    public PaidCallPipelineTests()
    {
        _ledger = new SqliteLedger(_database, TimeProvider.System);
        _credits = new CreditCharges(_ledger, new SqlitePayerStore(_database), TimeProvider.System);
    }

    public ValueTask DisposeAsync() => _database.DisposeAsync();

    [Fact]
    public async Task A_charged_answer_is_captured_once_and_never_released()
    {
        var charge = await HoldAsync();
        var http = Request();

        await Pipeline(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("paid") }).RunAsync(http, Link(), null, charge);

        Assert.Equal((1, 0), (charge.Captures, charge.Releases));
        Assert.Equal(Funded - Price, await CreditsAsync());
        Assert.Equal(Price, (await _ledger.BalanceAsync(Accounts.Earnings("org_link"), default)).Micros);
        Assert.Equal("0.01", http.Response.Headers["X-Charged"].ToString());
        Assert.Equal(PaymentTypes.Credits, http.Response.Headers["X-Charged-From"].ToString());
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.NotFound)]
    public async Task An_answer_the_policy_does_not_charge_is_released_once_and_passed_back(HttpStatusCode status)
    {
        var charge = await HoldAsync();
        var http = Request();

        await Pipeline(_ => new HttpResponseMessage(status)).RunAsync(http, Link(), null, charge);

        Assert.Equal((0, 1), (charge.Captures, charge.Releases));
        Assert.Equal((int)status, http.Response.StatusCode);
        Assert.Equal(Funded, await CreditsAsync());
    }

    [Fact]
    public async Task A_404_is_captured_when_the_link_charges_below_500()
    {
        var charge = await HoldAsync();

        await Pipeline(_ => new HttpResponseMessage(HttpStatusCode.NotFound)).RunAsync(Request(), Link(ChargePolicies.BelowServerError), null, charge);

        Assert.Equal((1, 0), (charge.Captures, charge.Releases));
        Assert.Equal(Funded - Price, await CreditsAsync());
    }

    [Fact]
    public async Task An_unreachable_upstream_is_released_once()
    {
        var charge = await HoldAsync();

        await Pipeline(_ => throw new HttpRequestException("refused")).RunAsync(Request(), Link(), null, charge);

        Assert.Equal((0, 1), (charge.Captures, charge.Releases));
        Assert.Equal(Funded, await CreditsAsync());
    }

    [Fact]
    public async Task An_exception_mid_call_is_released_once_and_rethrown()
    {
        var charge = await HoldAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Pipeline(_ => throw new InvalidOperationException("boom")).RunAsync(Request(), Link(), null, charge));

        Assert.Equal((0, 1), (charge.Captures, charge.Releases));
        Assert.Equal(Funded, await CreditsAsync());
    }

    [Fact]
    public async Task A_capture_that_throws_is_released_once()
    {
        var charge = await HoldAsync(failCapture: true);

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Pipeline(_ => new HttpResponseMessage(HttpStatusCode.OK)).RunAsync(Request(), Link(), null, charge));

        Assert.Equal((1, 1), (charge.Captures, charge.Releases));
        Assert.Equal(Funded, await CreditsAsync());
    }

    [Fact]
    public async Task A_payer_gone_after_capture_is_still_charged_and_not_released()
    {
        var charge = await HoldAsync();
        var http = Request();
        http.Response.Body = new BrokenStream();

        await Assert.ThrowsAsync<IOException>(() =>
            Pipeline(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("paid") }).RunAsync(http, Link(), null, charge));

        Assert.Equal((1, 0), (charge.Captures, charge.Releases));
        Assert.Equal(Funded - Price, await CreditsAsync());
    }

    [Fact]
    public async Task A_redemption_whose_upstream_fails_keeps_the_content_owed()
    {
        var payments = new SqlitePaymentStore(_database);
        var owed = await OwedPaymentAsync(payments);
        var redeem = await RedeemCharge.ClaimAsync(payments, owed, 2, "eip155:31337", default);
        Assert.NotNull(redeem);
        Assert.False((await payments.GetAsync(owed.Id, default))!.ContentOwed);
        Assert.Null(await RedeemCharge.ClaimAsync(payments, owed, 2, "eip155:31337", default));

        await Pipeline(_ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)).RunAsync(Request(), Link(), null, redeem);

        Assert.True((await payments.GetAsync(owed.Id, default))!.ContentOwed);
    }

    [Fact]
    public async Task A_redemption_delivered_owes_nothing_more()
    {
        var payments = new SqlitePaymentStore(_database);
        var owed = await OwedPaymentAsync(payments);
        var redeem = (await RedeemCharge.ClaimAsync(payments, owed, 2, "eip155:31337", default))!;
        var http = Request();

        await Pipeline(_ => new HttpResponseMessage(HttpStatusCode.OK)).RunAsync(http, Link(), null, redeem);

        Assert.False((await payments.GetAsync(owed.Id, default))!.ContentOwed);
        Assert.Equal(owed.Id, http.Response.Headers["X-Payment-Id"].ToString());
        Assert.False(string.IsNullOrEmpty(http.Response.Headers["PAYMENT-RESPONSE"].ToString()));
    }

    private async Task<CountedCharge> HoldAsync(bool failCapture = false)
    {
        await _ledger.PostAsync(LedgerEntry.Transfer("fund:" + Guid.NewGuid().ToString("N"), "topup", Accounts.CardClearing, Accounts.Credits(_payer.Id), Usd.FromMicros(Funded)), [], default);
        var (charge, reason) = await BalanceCharge.AuthorizeAsync(_credits, _payer, Link().Link, Usd.FromMicros(Price), default);
        Assert.Null(reason);
        return new CountedCharge(charge!, failCapture);
    }

    private async Task<long> CreditsAsync() => (await _ledger.BalanceAsync(Accounts.Credits(_payer.Id), default)).Micros;

    private static async Task<PaymentRecord> OwedPaymentAsync(SqlitePaymentStore payments)
    {
        var now = DateTimeOffset.UtcNow;
        var record = new PaymentRecord
        {
            Id = "pay_" + Guid.NewGuid().ToString("N"), LinkId = "lnk_1", OrganisationId = "org_link", Network = "eip155:31337",
            Asset = "0x" + new string('a', 40), Payer = "0x" + new string('b', 40), PayTo = "0x" + new string('c', 40),
            Nonce = "0x" + new string('1', 64), Amount = TokenAmount.Parse("10000"), X402Version = 2, Status = PaymentStatus.Reserved,
            Mode = SettlementModes.Sync, ValidBefore = now.AddHours(1).ToUnixTimeSeconds(), CreatedAt = now, UpdatedAt = now,
        };
        Assert.True(await payments.TryReserveAsync(record, default));
        await payments.AdvanceAsync(record.Id, PaymentStatus.Settling, now, default);
        await payments.MarkSettledAsync(record.Id, "0x" + new string('d', 64), now, default);
        Assert.True(await payments.TrySetContentOwedAsync(record.Id, true, default));
        return (await payments.GetAsync(record.Id, default))!;
    }

    private PaidCallPipeline Pipeline(Func<HttpRequestMessage, HttpResponseMessage> upstream)
    {
        var options = Options.Create(new GatewayOptions());
        var forwarder = new UpstreamForwarder(new HttpMessageInvoker(new StubUpstream(upstream)), new ResponseIsolation(options), options);
        return new PaidCallPipeline(forwarder, new PaymentRequiredResponder(new PublicUrls(options), options, TimeProvider.System),
            new UsageRecorder(new SqliteUsageStore(_database), TimeProvider.System, new X402Serverless.Core.Networks.NetworkRegistry([]), NullLogger<UsageRecorder>.Instance), options,
            Events(out var creditsLow), creditsLow, NullLogger<PaidLinkEndpoint>.Instance);
    }

    private X402Serverless.Handler.OutboundWebhooks.WebhookEvents Events(out X402Serverless.Handler.OutboundWebhooks.CreditsLowWatch creditsLow)
    {
        var store = new SqliteWebhookEndpointStore(_database);
        var options = Options.Create(new OutboundWebhookOptions());
        var cache = new X402Serverless.Handler.OutboundWebhooks.WebhookEndpointCache(store, TimeProvider.System, options);
        var events = new X402Serverless.Handler.OutboundWebhooks.WebhookEvents(cache, store, new X402Serverless.Handler.OutboundWebhooks.WebhookDeliverySignal(),
            TimeProvider.System, NullLogger<X402Serverless.Handler.OutboundWebhooks.WebhookEvents>.Instance);
        creditsLow = new(cache, new SqliteLedger(_database, TimeProvider.System), events, options, NullLogger<X402Serverless.Handler.OutboundWebhooks.CreditsLowWatch>.Instance);
        return events;
    }

    private static CachedLink Link(string chargeOn = ChargePolicies.Success)
    {
        var link = new PaidLink
        {
            Id = "lnk_1", OrganisationId = "org_link", Upstream = "https://upstream.test/", Price = Usd.Parse("0.01"), PayTo = "0x" + new string('c', 40),
            Networks = [], Methods = [], Accepts = [PaymentTypes.Credits], ChargeOn = chargeOn,
            CreatedAt = DateTimeOffset.UnixEpoch, UpdatedAt = DateTimeOffset.UnixEpoch,
        };
        return new CachedLink(link, [], [], new Uri(link.Upstream), long.MaxValue);
    }

    private static DefaultHttpContext Request()
    {
        var http = new DefaultHttpContext();
        http.Request.Method = "GET";
        http.Request.Scheme = "https";
        http.Request.Host = new HostString("gateway.test");
        http.Response.Body = new MemoryStream();
        return http;
    }

    /// <summary>Counts what the pipeline asks of a real charge; it may also make the capture fail.</summary>
    private sealed class CountedCharge(ICharge inner, bool failCapture) : ICharge
    {
        public int Captures { get; private set; }

        public int Releases { get; private set; }

        public bool CapturesCompleteAnswersOnly => inner.CapturesCompleteAnswersOnly;

        public bool AlreadyPaid => inner.AlreadyPaid;

        public Task<ChargeCapture> CaptureAsync(CancellationToken cancellationToken)
        {
            Captures++;
            return failCapture ? throw new InvalidOperationException("ledger down") : inner.CaptureAsync(cancellationToken);
        }

        public Task ReleaseAsync(CancellationToken cancellationToken)
        {
            Releases++;
            return inner.ReleaseAsync(cancellationToken);
        }
    }

    private sealed class StubUpstream(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answer(request));
    }

    /// <summary>A payer that disconnected: every write fails.</summary>
    private sealed class BrokenStream : MemoryStream
    {
        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("gone");

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => throw new IOException("gone");

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => throw new IOException("gone");
    }
}
