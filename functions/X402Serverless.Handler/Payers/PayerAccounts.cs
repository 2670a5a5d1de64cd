using X402Serverless.Core.Credits;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Payers;
using X402Serverless.Core.Ports;

namespace X402Serverless.Handler.Payers;

/// <summary>Reads a payer's balances and verification for the API.</summary>
internal sealed class PayerAccounts(ILedger ledger, IKycStore kyc, TimeProvider time)
{
    public async Task<PayerView> ViewAsync(Payer payer, CancellationToken cancellationToken)
    {
        var period = Periods.Month(time.GetUtcNow());
        return PayerView.From(
            payer,
            await ledger.BalanceAsync(Accounts.Credits(payer.Id), cancellationToken),
            await ledger.BalanceAsync(Accounts.Allowance(payer.OrganisationId, payer.Id), cancellationToken),
            await ledger.CapUsedAsync($"payer-month:{payer.Id}:{period}", cancellationToken),
            period,
            await kyc.GetAsync(payer.Id, cancellationToken));
    }
}
