namespace X402Serverless.Core.Ledger;

public enum PostResult
{
    Posted,

    /// <summary>An entry with this key already exists; nothing changed.</summary>
    Duplicate,

    /// <summary>A debited account would fall below its floor; nothing changed.</summary>
    Insufficient,

    /// <summary>A spending cap would be exceeded; nothing changed.</summary>
    CapExceeded,
}
