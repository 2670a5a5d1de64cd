using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Payments;
using static X402Serverless.AzureStorage.TablePaymentEntities;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

// The per-payer bound on deferred payments. Table Storage cannot count and insert in one step, and a payment's
// partition is its own id, so the bound is a set of slots: partition = payer, rows "0000".."{bound-1}" in the slots
// table. A deferred payment is reserved only after it claimed a slot with a conditional write (an insert of an absent
// row, or a replace on the ETag of a row whose payment is over), so two parallel requests never hold the same slot and
// a wallet never has more deferred payments in flight than slots. A slot needs no freeing when its payment ends: it
// is free once the payment it names is no longer live (nothing to decrement, nothing to leak).
public sealed partial class TablePaymentStore
{
    // A claim whose payment was never written (its request died in between) is free after this long.
    private static readonly TimeSpan UnwrittenClaimGrace = TimeSpan.FromMinutes(5);

    private const string SlotField = "DeferredSlot";

    public async Task<string?> TryReserveDeferredAsync(PaymentRecord payment, int maxInFlight, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        if (await TryClaimSlotAsync(payment.Payer, payment.Id, maxInFlight, cancellationToken) is not { } slot)
        {
            return await TryReserveAsync(payment with { Mode = SettlementModes.Sync }, cancellationToken) ? SettlementModes.Sync : null;
        }
        var entity = ToEntity(payment with { Mode = SettlementModes.Deferred, Status = PaymentStatus.Reserved });
        entity[SlotField] = slot.Reference;
        try
        {
            await _table.AddEntityAsync(entity, cancellationToken);
            return SettlementModes.Deferred;
        }
        catch (RequestFailedException e) when (e.IsConflict())
        {
            // The id exists (a replay): this claim is given back; only this claim, by its ETag.
            await DeleteSlotAsync(slot.Payer, slot.Row, slot.ETag, cancellationToken);
            return null;
        }
    }

    private sealed record SlotClaim(string Payer, string Row, string Claim, ETag ETag)
    {
        public string Reference => Row + "/" + Claim;
    }

    private async Task<SlotClaim?> TryClaimSlotAsync(string payer, string paymentId, int bound, CancellationToken cancellationToken)
    {
        for (var round = 0; round < 8; round++)
        {
            var contended = false;
            var slots = (await _slots.ListAsync(TableClient.CreateQueryFilter($"PartitionKey eq {payer}"), null, cancellationToken))
                .ToDictionary(e => e.RowKey, StringComparer.Ordinal);
            for (var i = 0; i < bound; i++)
            {
                var row = SlotRow(i);
                if (slots.ContainsKey(row))
                {
                    continue;
                }
                var claim = Guid.NewGuid().ToString("N");
                try
                {
                    var added = await _slots.AddEntityAsync(SlotEntity(payer, row, paymentId, claim), cancellationToken);
                    return new SlotClaim(payer, row, claim, added.Headers.ETag ?? ETag.All);
                }
                catch (RequestFailedException e) when (e.IsConflict())
                {
                    contended = true;
                }
            }
            for (var i = 0; i < bound; i++)
            {
                var row = SlotRow(i);
                if (!slots.TryGetValue(row, out var held) || !await IsFreeAsync(held, cancellationToken))
                {
                    continue;
                }
                var claim = Guid.NewGuid().ToString("N");
                try
                {
                    var replaced = await _slots.UpdateEntityAsync(SlotEntity(payer, row, paymentId, claim), held.ETag, TableUpdateMode.Replace, cancellationToken);
                    return new SlotClaim(payer, row, claim, replaced.Headers.ETag ?? ETag.All);
                }
                catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsNotFound())
                {
                    contended = true;
                }
            }
            if (!contended)
            {
                return null; // every slot is held by a live deferred payment: the bound is reached
            }
        }
        return null; // still contended: sync is the safe answer
    }

    /// <summary>A slot is free once the payment that claimed it is over, became another reservation, or was never written.</summary>
    private async Task<bool> IsFreeAsync(TableEntity slot, CancellationToken cancellationToken)
    {
        if (await _table.FindAsync(Str(slot, "Holder"), Row, cancellationToken) is not { } payment)
        {
            return slot.Timestamp is { } at && DateTimeOffset.UtcNow - at > UnwrittenClaimGrace;
        }
        return OptStr(payment, SlotField) != slot.RowKey + "/" + Str(slot, "Claim")
            || !Enum.TryParse<PaymentStatus>(Str(payment, "Status"), out var status)
            || !PaymentTransitions.Live.Contains(status);
    }

    /// <summary>Gives back the slot a deleted (released) deferred payment held, so the wallet need not wait for the grace.</summary>
    private async Task FreeSlotOfAsync(TableEntity payment, CancellationToken cancellationToken)
    {
        if (OptStr(payment, SlotField) is not { Length: > 0 } reference || reference.Split('/') is not [var row, var claim])
        {
            return;
        }
        var payer = Str(payment, "Payer");
        if (await _slots.FindAsync(payer, row, cancellationToken) is { } slot && Str(slot, "Claim") == claim)
        {
            await DeleteSlotAsync(payer, row, slot.ETag, cancellationToken);
        }
    }

    private async Task DeleteSlotAsync(string payer, string row, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await _slots.DeleteEntityAsync(payer, row, etag, cancellationToken);
        }
        catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsNotFound())
        {
            // claimed again meanwhile: no longer ours to free
        }
    }

    private static string SlotRow(int index) => index.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);

    private static TableEntity SlotEntity(string payer, string row, string paymentId, string claim) => new(payer, row)
    {
        ["Holder"] = paymentId,
        ["Claim"] = claim,
    };
}
