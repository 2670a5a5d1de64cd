namespace X402Serverless.Handler.Management;

/// <summary>A list response, {"items": [...]}: an object rather than a bare array, so fields can be added beside the items.</summary>
internal sealed record ItemList<T>(IEnumerable<T> Items);
