using System.Globalization;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;

namespace X402Serverless.Handler.Management;

/// <summary>
/// An organisation's ledger postings as CSV: its allowance pool and earnings, then each payer's credits and
/// allowance, each account newest first (at most <see cref="MaxPerAccount"/> postings an account and
/// <see cref="MaxRows"/> in all), written account by account as they are read.
/// </summary>
internal static class PostingsCsv
{
    public const int MaxRows = 10_000;
    public const int MaxPerAccount = 1_000;

    public const string Header = "account,account_kind,payer_id,sequence,at,entry_key,entry_kind,amount_usd,memo\r\n";

    public static async Task WriteAsync(TextWriter writer, ILedger ledger, IPayerStore payers, string organisationId, CancellationToken cancellationToken)
    {
        await writer.WriteAsync(Header);
        var accounts = new List<(string Account, string Kind, string? PayerId)>
        {
            (Accounts.Pool(organisationId), "pool", null),
            (Accounts.Earnings(organisationId), "earnings", null),
        };
        foreach (var payer in (await payers.ListAsync(organisationId, cancellationToken)).OrderBy(p => p.CreatedAt))
        {
            accounts.Add((Accounts.Credits(payer.Id), "credits", payer.Id));
            accounts.Add((Accounts.Allowance(organisationId, payer.Id), "allowance", payer.Id));
        }
        var rows = 0;
        var c = CultureInfo.InvariantCulture;
        foreach (var (account, kind, payerId) in accounts)
        {
            if (rows >= MaxRows)
            {
                break;
            }
            foreach (var p in await ledger.PostingsAsync(account, Math.Min(MaxPerAccount, MaxRows - rows), cancellationToken))
            {
                // Amounts are the ledger's own signed decimals, written as numbers; everything else is a defused cell.
                await writer.WriteAsync(string.Join(',', CsvCells.Cell(account), kind, CsvCells.Cell(payerId), p.Sequence.ToString(c),
                    CsvCells.Cell(p.At.UtcDateTime.ToString("O", c)), CsvCells.Cell(p.EntryKey), CsvCells.Cell(p.Kind), p.Amount.ToString(),
                    CsvCells.Cell(p.Memo)) + "\r\n");
                rows++;
            }
            await writer.FlushAsync(cancellationToken);
        }
    }
}
