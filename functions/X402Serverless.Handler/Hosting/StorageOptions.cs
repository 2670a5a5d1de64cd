namespace X402Serverless.Handler.Hosting;

/// <summary>Settings under "X402:Storage": which store adapter runs, and where Table Storage is.</summary>
public sealed class StorageOptions
{
    public const string Sqlite = "sqlite";
    public const string Table = "table";

    /// <summary>"sqlite" (embedded default) or "table" (Azure Table Storage / Azurite).</summary>
    public string Kind { get; set; } = Sqlite;

    /// <summary>Table endpoint, e.g. https://st.table.core.windows.net or http://127.0.0.1:10002/devstoreaccount1.</summary>
    public string? TableEndpoint { get; set; }

    /// <summary>Only for emulators (Azurite): account name and key. In Azure, leave empty: the managed identity is used.</summary>
    public string? AccountName { get; set; }

    public string? AccountKey { get; set; }

    /// <summary>Prefix for table names, so several deployments can share an account.</summary>
    public string TablePrefix { get; set; } = "x402";
}
