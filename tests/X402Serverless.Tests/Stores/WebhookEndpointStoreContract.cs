using X402Serverless.Core.OutboundWebhooks;
using X402Serverless.Core.Ports;

namespace X402Serverless.Tests.Stores;

/// <summary>
/// What every IWebhookEndpointStore adapter must do: organisation-scoped endpoints, events and deliveries stored once
/// however often they are raised, and deliveries changed only by conditional writes.
/// </summary>
public abstract class WebhookEndpointStoreContract
{
    protected abstract Task<IWebhookEndpointStore> StoreAsync();

    private static readonly DateTimeOffset At = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private static WebhookEndpoint Endpoint(string organisation, DateTimeOffset? created = null) => new()
    {
        Id = WebhookIds.Endpoint(),
        OrganisationId = organisation,
        Url = "https://hooks.example.com/x402",
        Description = "Ops \"é\"",
        Events = [WebhookEventTypes.PaymentSettled, WebhookEventTypes.LinkUnhealthy],
        Secrets = [new WebhookSecret(WebhookIds.Secret(), "v1:sealed", At, null), new WebhookSecret(WebhookIds.Secret(), "v1:old", At.AddDays(-1), At.AddHours(20))],
        CreatedAt = created ?? At,
        UpdatedAt = At,
    };

    private static WebhookDelivery Delivery(WebhookEndpoint endpoint, DateTimeOffset created, string status = DeliveryStatuses.Pending) => new()
    {
        Id = WebhookIds.Delivery(new WebhookEvent(WebhookIds.Event(), endpoint.OrganisationId, WebhookEventTypes.PaymentSettled, "{}", created), endpoint.Id),
        EndpointId = endpoint.Id,
        OrganisationId = endpoint.OrganisationId,
        EventId = WebhookIds.Event(),
        EventType = WebhookEventTypes.PaymentSettled,
        Payload = """{"id":"evt_1","type":"payment.settled","data":{"object":{"note":"é\n"}}}""",
        Status = status,
        NextAttemptAt = created,
        CreatedAt = created,
        UpdatedAt = created,
    };

    private static string Org() => "org_" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task An_endpoint_round_trips_and_is_invisible_to_another_organisation()
    {
        var store = await StoreAsync();
        var (mine, theirs) = (Org(), Org());
        var first = Endpoint(mine);
        var second = Endpoint(mine, At.AddMinutes(1));
        await store.CreateAsync(second, default);
        await store.CreateAsync(first, default);
        await store.CreateAsync(Endpoint(theirs), default);

        var read = (await store.GetAsync(mine, first.Id, default))!;
        Assert.Equal(first, read with { Events = first.Events, Secrets = first.Secrets });
        Assert.Equal(first.Events, read.Events);
        Assert.Equal(first.Secrets, read.Secrets);
        Assert.Null(await store.GetAsync(theirs, first.Id, default));
        Assert.Equal([first.Id, second.Id], (await store.ListAsync(mine, default)).Select(e => e.Id));
        Assert.False(await store.DeleteAsync(theirs, first.Id, default));
        Assert.False(await store.UpdateAsync(first with { OrganisationId = theirs }, default));
        Assert.Equal("https://hooks.example.com/x402", (await store.GetAsync(mine, first.Id, default))!.Url);
    }

    [Fact]
    public async Task An_update_replaces_and_a_delete_removes_the_endpoint_and_its_deliveries()
    {
        var store = await StoreAsync();
        var org = Org();
        var endpoint = Endpoint(org);
        await store.CreateAsync(endpoint, default);
        Assert.True(await store.UpdateAsync(endpoint with { Enabled = false, Events = [WebhookEventTypes.CreditsLow] }, default));
        var read = (await store.GetAsync(org, endpoint.Id, default))!;
        Assert.False(read.Enabled);
        Assert.Equal([WebhookEventTypes.CreditsLow], read.Events);

        var delivery = Delivery(endpoint, At);
        await store.AddDeliveriesAsync([delivery], default);
        Assert.True(await store.DeleteAsync(org, endpoint.Id, default));
        Assert.Null(await store.GetAsync(org, endpoint.Id, default));
        Assert.Null(await store.GetDeliveryAsync(endpoint.Id, delivery.Id, default));
        Assert.False(await store.UpdateAsync(endpoint, default));
        Assert.False(await store.DeleteAsync(org, endpoint.Id, default));
    }

    [Fact]
    public async Task Deliveries_list_newest_first_and_change_only_while_their_status_and_attempt_are_as_expected()
    {
        var store = await StoreAsync();
        var endpoint = Endpoint(Org());
        await store.CreateAsync(endpoint, default);
        var older = Delivery(endpoint, At);
        var newer = Delivery(endpoint, At.AddSeconds(1));
        await store.AddDeliveriesAsync([older, newer], default);
        Assert.Equal([newer.Id, older.Id], (await store.ListDeliveriesAsync(endpoint.Id, 10, default)).Select(d => d.Id));
        Assert.Equal([newer.Id], (await store.ListDeliveriesAsync(endpoint.Id, 1, default)).Select(d => d.Id));
        Assert.Equal(older.Payload, (await store.GetDeliveryAsync(endpoint.Id, older.Id, default))!.Payload);
        Assert.Null(await store.GetDeliveryAsync("whe_other", older.Id, default));

        // Two claims from the same snapshot: exactly one wins.
        var claim = older with { Status = DeliveryStatuses.Sending, Attempts = 1 };
        Assert.True(await store.TryUpdateDeliveryAsync(claim, DeliveryStatuses.Pending, 0, default));
        Assert.False(await store.TryUpdateDeliveryAsync(claim, DeliveryStatuses.Pending, 0, default));
        var logged = claim with
        {
            Status = DeliveryStatuses.Delivered,
            Log = [new WebhookAttempt(At, 200, 12, "ok", null), new WebhookAttempt(At, null, 10_000, null, "timeout")],
        };
        Assert.True(await store.TryUpdateDeliveryAsync(logged, DeliveryStatuses.Sending, 1, default));
        Assert.Equal(logged.Log, (await store.GetDeliveryAsync(endpoint.Id, older.Id, default))!.Log);
    }

    [Fact]
    public async Task Due_lists_pending_and_lease_expired_deliveries_oldest_first_never_finished_ones()
    {
        var store = await StoreAsync();
        var endpoint = Endpoint(Org());
        await store.CreateAsync(endpoint, default);
        var early = Delivery(endpoint, At.AddMinutes(-2));
        var leaseOver = Delivery(endpoint, At.AddMinutes(-1), DeliveryStatuses.Sending);
        var later = Delivery(endpoint, At.AddMinutes(5));
        var delivered = Delivery(endpoint, At.AddMinutes(-3), DeliveryStatuses.Delivered);
        var failed = Delivery(endpoint, At.AddMinutes(-3), DeliveryStatuses.Failed);
        await store.AddDeliveriesAsync([later, leaseOver, early, delivered, failed], default);
        var due = (await store.DueAsync(At, 1000, default)).Where(d => d.EndpointId == endpoint.Id).Select(d => d.Id).ToList();
        Assert.Equal([early.Id, leaseOver.Id], due);
    }

    [Fact]
    public async Task An_event_raised_again_keeps_its_first_body_and_its_deliveries_are_stored_once_wherever_they_got_to()
    {
        var store = await StoreAsync();
        var org = Org();
        var endpoint = Endpoint(org);
        await store.CreateAsync(endpoint, default);
        var id = WebhookIds.EventFor(org, WebhookEventTypes.PaymentSettled, "pay_1");
        Assert.Equal(id, WebhookIds.EventFor(org, WebhookEventTypes.PaymentSettled, "pay_1"));
        Assert.NotEqual(id, WebhookIds.EventFor(org, WebhookEventTypes.PaymentFailed, "pay_1"));
        Assert.NotEqual(id, WebhookIds.EventFor(Org(), WebhookEventTypes.PaymentSettled, "pay_1"));

        var first = new WebhookEvent(id, org, WebhookEventTypes.PaymentSettled, """{"id":"first","note":"é\n"}""", At);
        Assert.Equal(first, await store.AddEventAsync(first, default));
        var again = first with { Payload = """{"id":"second"}""", CreatedAt = At.AddMinutes(3) };
        Assert.Equal(first, await store.AddEventAsync(again, default));

        var delivery = Delivery(endpoint, At) with { Id = WebhookIds.Delivery(first, endpoint.Id), EventId = id, Payload = first.Payload };
        await store.AddDeliveriesAsync([delivery], default);
        var claimed = delivery with { Status = DeliveryStatuses.Sending, Attempts = 1 };
        Assert.True(await store.TryUpdateDeliveryAsync(claimed, DeliveryStatuses.Pending, 0, default));
        // A second raise names the same delivery: it is neither added again nor reset to pending.
        await store.AddDeliveriesAsync([delivery with { Payload = again.Payload }], default);
        var stored = Assert.Single(await store.ListDeliveriesAsync(endpoint.Id, 10, default));
        Assert.Equal(DeliveryStatuses.Sending, stored.Status);
        Assert.Equal(first.Payload, stored.Payload);
    }

    [Fact]
    public async Task Fifty_concurrent_raises_of_one_event_store_one_event_and_one_delivery_per_endpoint()
    {
        var store = await StoreAsync();
        var org = Org();
        var endpoints = new[] { Endpoint(org), Endpoint(org) };
        foreach (var e in endpoints)
        {
            await store.CreateAsync(e, default);
        }
        var id = WebhookIds.EventFor(org, WebhookEventTypes.ChargeCaptured, "hold:h1");
        var raised = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            var stored = await store.AddEventAsync(new WebhookEvent(id, org, WebhookEventTypes.ChargeCaptured, $$"""{"raise":{{i}}}""", At.AddSeconds(i)), default);
            await store.AddDeliveriesAsync(endpoints.Select(e => Delivery(e, stored.CreatedAt) with
            {
                Id = WebhookIds.Delivery(stored, e.Id), EventId = stored.Id, Payload = stored.Payload,
            }).ToList(), default);
            return stored;
        }));
        Assert.Single(raised.Distinct());
        foreach (var e in endpoints)
        {
            var delivery = Assert.Single(await store.ListDeliveriesAsync(e.Id, 100, default));
            Assert.Equal(raised[0].Payload, delivery.Payload);
            Assert.Equal(id, delivery.EventId);
        }
    }

    [Fact]
    public async Task Retention_removes_ended_deliveries_then_their_events_but_never_a_live_delivery_or_its_event()
    {
        var store = await StoreAsync();
        var org = Org();
        var (one, two) = (Endpoint(org), Endpoint(org));
        await store.CreateAsync(one, default);
        await store.CreateAsync(two, default);
        // Long before every other test's rows, so only this test's are old enough to go.
        var cutoff = new DateTimeOffset(2001, 6, 1, 0, 0, 0, TimeSpan.Zero);
        var old = cutoff.AddDays(-40);
        async Task<WebhookEvent> RaiseAsync(string subject, DateTimeOffset at) =>
            await store.AddEventAsync(new WebhookEvent(WebhookIds.EventFor(org, WebhookEventTypes.PaymentSettled, subject), org,
                WebhookEventTypes.PaymentSettled, $$"""{"subject":"{{subject}}"}""", at), default);
        WebhookDelivery To(WebhookEvent e, WebhookEndpoint endpoint, string status, DateTimeOffset ended) => Delivery(endpoint, e.CreatedAt, status) with
        {
            Id = WebhookIds.Delivery(e, endpoint.Id), EventId = e.Id, Payload = e.Payload, NextAttemptAt = ended, UpdatedAt = ended,
        };
        async Task<bool> EventKeptAsync(WebhookEvent e) =>
            (await store.AddEventAsync(e with { Payload = """{"raised":"again"}""", CreatedAt = cutoff.AddYears(1) }, default)).Payload == e.Payload;
        // Batches of two, so the batching is exercised; ten of them pass over the six old events (a store that resumes
        // its scan where the last batch stopped) and remove the two ended deliveries, with room to spare.
        async Task PurgeAllAsync()
        {
            for (var i = 0; i < 10; i++)
            {
                await store.PurgeAsync(cutoff, 2, default);
            }
        }

        var partly = await RaiseAsync("partly", old);
        var (partlyDone, partlyRetrying) = (To(partly, one, DeliveryStatuses.Delivered, old.AddHours(1)), To(partly, two, DeliveryStatuses.Pending, old.AddHours(2)));
        var failed = await RaiseAsync("failed", old);
        var failedOne = To(failed, one, DeliveryStatuses.Failed, old.AddHours(3));
        var claimed = await RaiseAsync("claimed", old);
        var claimedOne = To(claimed, one, DeliveryStatuses.Sending, old.AddHours(1));
        // Raised long ago but redelivered lately: it ended after the cutoff.
        var redelivered = await RaiseAsync("redelivered", old);
        var redeliveredOne = To(redelivered, one, DeliveryStatuses.Delivered, cutoff.AddDays(1));
        var recent = await RaiseAsync("recent", cutoff.AddDays(1));
        var recentOne = To(recent, one, DeliveryStatuses.Delivered, cutoff.AddDays(1));
        // Stored for endpoints since deleted: nothing of it is left to deliver.
        var orphan = await RaiseAsync("orphan", old);
        await store.AddDeliveriesAsync([partlyDone, partlyRetrying, failedOne, claimedOne, redeliveredOne, recentOne], default);

        await PurgeAllAsync();

        Assert.Null(await store.GetDeliveryAsync(one.Id, partlyDone.Id, default));
        Assert.Null(await store.GetDeliveryAsync(one.Id, failedOne.Id, default));
        Assert.NotNull(await store.GetDeliveryAsync(two.Id, partlyRetrying.Id, default));
        Assert.NotNull(await store.GetDeliveryAsync(one.Id, claimedOne.Id, default));
        Assert.NotNull(await store.GetDeliveryAsync(one.Id, redeliveredOne.Id, default));
        Assert.NotNull(await store.GetDeliveryAsync(one.Id, recentOne.Id, default));
        Assert.True(await EventKeptAsync(partly));
        Assert.True(await EventKeptAsync(claimed));
        Assert.True(await EventKeptAsync(redelivered));
        Assert.True(await EventKeptAsync(recent));
        Assert.False(await EventKeptAsync(failed));
        Assert.False(await EventKeptAsync(orphan));

        // Once the retrying delivery ends (long ago), it goes, and then its event.
        Assert.True(await store.TryUpdateDeliveryAsync(partlyRetrying with { Status = DeliveryStatuses.Delivered, Attempts = 1 },
            DeliveryStatuses.Pending, 0, default));
        await PurgeAllAsync();
        Assert.Null(await store.GetDeliveryAsync(two.Id, partlyRetrying.Id, default));
        Assert.False(await EventKeptAsync(partly));
        Assert.Equal(new[] { recentOne.Id, redeliveredOne.Id, claimedOne.Id }.Order(),
            (await store.ListDeliveriesAsync(one.Id, 10, default)).Select(d => d.Id).Order());
    }
}
