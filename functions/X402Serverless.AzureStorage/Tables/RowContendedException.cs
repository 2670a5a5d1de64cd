using Azure;

namespace X402Serverless.AzureStorage.Tables;

/// <summary>
/// A balance or counter row that kept changing under every conditional write (other instances, or a holder that
/// outwaited its turn) until the ledger gave up, or an entry that took too long to apply: the write was not made. An
/// entry it belonged to stays journaled, and recovery finishes or undoes it.
/// </summary>
public sealed class RowContendedException(string message) : RequestFailedException(412, message, "UpdateConditionNotSatisfied", null);
