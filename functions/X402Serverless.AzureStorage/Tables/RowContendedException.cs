using Azure;

namespace X402Serverless.AzureStorage.Tables;

/// <summary>
/// A balance or counter row that kept changing under every conditional write (other instances, or a holder that
/// outwaited its turn) until the ledger gave up: that write was not made. An entry it belonged to stays journaled,
/// and recovery finishes or undoes it.
/// </summary>
public sealed class RowContendedException(string key, int attempts)
    : RequestFailedException(412, $"Row {key} kept changing under every write for {attempts} tries; the last try changed nothing.", "UpdateConditionNotSatisfied", null);
