using System.Collections.Concurrent;
using X402Serverless.Core.Links;
using X402Serverless.Core.Money;

namespace X402Serverless.Handler.Management;

/// <summary>What happened to one operation of an import.</summary>
internal sealed record ImportedItem(
    string Operation,
    string Method,
    string Path,
    string Upstream,
    string Status,
    Usd? Price,
    LinkView? Link,
    string? LinkId,
    IReadOnlyList<ImportError>? Errors);

internal sealed record ImportError(string Operation, string Field, string Code, string Message);

/// <summary>The answer of an import: every selected operation and what became of it.</summary>
internal sealed record ImportReport(bool DryRun, string UpstreamBase, int Created, int Existing, int Invalid, IReadOnlyList<ImportedItem> Operations)
{
    public IEnumerable<ImportError> Errors => Operations.SelectMany(o => o.Errors ?? []);
}

/// <summary>How an import ended: refused as a whole (<see cref="RequestErrors"/>), or a report with its outcome.</summary>
internal sealed record ImportOutcome(List<ValidationError> RequestErrors, ImportReport? Report, ImportResultKind Kind, string? Failure = null);

internal enum ImportResultKind
{
    BadRequest,
    Invalid,
    Done,
    Incomplete,
}

/// <summary>
/// Turns an OpenAPI document's operations into links: every operation is checked exactly as POST /api/links checks
/// a link (<see cref="LinkEditor.PrepareLinkAsync"/>) before any is written. An operation whose link already exists
/// (<see cref="ImportedLinkId"/>: same organisation, upstream base, method and path) is reported, not created again,
/// so a repeated or retried import adds only what is missing.
/// </summary>
internal sealed class LinkImporter(LinkServices links, OpenApiDocumentFetcher fetcher)
{
    public static class Statuses
    {
        public const string Planned = "planned";
        public const string Created = "created";
        public const string Exists = "exists";
        public const string Invalid = "invalid";
        public const string NotCreated = "not_created";
    }

    // One import per organisation at a time on this instance, so a double submit cannot create a link twice.
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    public async Task<ImportOutcome> ImportAsync(string organisationId, LinkImportRequest request, string linkBaseUrl, CancellationToken cancellationToken)
    {
        var (text, documentError) = await DocumentTextAsync(request, cancellationToken);
        if (text is null)
        {
            return Refused(documentError!);
        }
        var (reading, readErrors) = OpenApiOperations.Read(text);
        if (reading is null)
        {
            return new(readErrors, null, ImportResultKind.BadRequest);
        }
        var (upstreamBase, baseError) = UpstreamBase(request, reading.FirstServerUrl);
        if (upstreamBase is null)
        {
            return Refused(baseError!);
        }
        var (selected, selectErrors) = Select(reading.Operations, request);
        if (selectErrors.Count > 0)
        {
            return new(selectErrors, null, ImportResultKind.BadRequest);
        }

        var gate = Gates.GetOrAdd(organisationId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            return await PlanAndCreateAsync(organisationId, request, upstreamBase, selected, linkBaseUrl, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<ImportOutcome> PlanAndCreateAsync(
        string organisationId, LinkImportRequest request, string upstreamBase, List<ImportedOperation> selected, string linkBaseUrl, CancellationToken cancellationToken)
    {
        var shared = request.SharedDraft();
        var plan = new List<(ImportedOperation Operation, string Upstream, PaidLink? Link, string? ExistingId, List<ValidationError> Errors)>();
        foreach (var operation in selected)
        {
            var upstream = upstreamBase + operation.StaticPrefix;
            var id = ImportedLinkId(organisationId, upstreamBase, operation);
            if (await links.FindOwnLinkAsync(organisationId, id, cancellationToken) is not null)
            {
                plan.Add((operation, upstream, null, id, []));
                continue;
            }
            var draft = Draft(shared, operation, upstream, request).Normalized();
            var (link, errors) = await links.PrepareLinkAsync(organisationId, draft, cancellationToken);
            plan.Add((operation, upstream, link is null ? null : link with { Id = id }, null, errors));
        }

        var invalid = plan.Count(p => p.Errors.Count > 0);
        var dryRun = request.DryRun ?? false;
        if (invalid > 0 && !(request.SkipInvalid ?? false))
        {
            return new([], Report(dryRun, upstreamBase, plan.Select(p => Item(p, StatusOf(p, Statuses.NotCreated)))), ImportResultKind.Invalid);
        }
        if (dryRun)
        {
            return new([], Report(true, upstreamBase, plan.Select(p => Item(p, StatusOf(p, Statuses.Planned)))), ImportResultKind.Done);
        }

        var items = new List<ImportedItem>();
        string? failure = null;
        foreach (var p in plan)
        {
            if (p.Link is null || failure is not null)
            {
                items.Add(Item(p, p.Link is null ? StatusOf(p, Statuses.Planned) : Statuses.NotCreated));
                continue;
            }
            try
            {
                await links.Links.CreateAsync(p.Link, cancellationToken);
                items.Add(Item(p, Statuses.Created, LinkView.From(p.Link, linkBaseUrl)));
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The links already written stay (each is complete on its own); the answer names them and the rest.
                failure = $"Storing the link of {p.Operation.Key} failed ({e.GetType().Name}); the links reported as created exist, the rest were not created. Importing again adds only the missing ones.";
                items.Add(Item(p, Statuses.NotCreated));
            }
        }
        if (items.Any(i => i.Status == Statuses.Created))
        {
            links.Catalogue.Invalidate();
        }
        var report = Report(false, upstreamBase, items);
        return failure is null ? new([], report, ImportResultKind.Done) : new([], report, ImportResultKind.Incomplete, failure);
    }

    private async Task<(string? Text, ValidationError? Error)> DocumentTextAsync(LinkImportRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Document) == string.IsNullOrWhiteSpace(request.DocumentUrl))
        {
            return (null, new("document", "document_required", "Send exactly one of document (the OpenAPI text) or documentUrl."));
        }
        if (request.Document is { } text)
        {
            return System.Text.Encoding.UTF8.GetByteCount(text) > OpenApiDocumentFetcher.MaxDocumentBytes
                ? (null, OpenApiDocumentFetcher.TooLarge())
                : (text, null);
        }
        return await fetcher.FetchAsync(request.DocumentUrl!.Trim(), cancellationToken);
    }

    /// <summary>
    /// An imported link's id follows from what it is: the organisation, the upstream base and the operation's method
    /// and path. A repeated import finds its links by id, and the store's unique id refuses a concurrent duplicate.
    /// </summary>
    public static string ImportedLinkId(string organisationId, string upstreamBase, ImportedOperation operation)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
            $"openapi-import\n{organisationId}\n{upstreamBase}\n{operation.Method}\n{operation.Path}"));
        return "lnk_" + Convert.ToBase64String(hash, 0, 9).Replace('+', '-').Replace('/', '_');
    }

    /// <summary>The request's base, else the first server's URL (a relative one is resolved against documentUrl).</summary>
    private static (string? Base, ValidationError? Error) UpstreamBase(LinkImportRequest request, string? serverUrl)
    {
        var candidate = request.UpstreamBase?.Trim() ?? serverUrl;
        if (candidate is not null && request.UpstreamBase is null && !IsHttp(candidate, out _)
            && IsHttp(request.DocumentUrl, out var documentUri))
        {
            candidate = new Uri(documentUri!, candidate).ToString(); // "/v3" in a document fetched from https://api.example/openapi.json
        }
        if (!IsHttp(candidate, out var uri))
        {
            return (null, new("upstreamBase", "upstream_base_required",
                "upstreamBase must be an absolute http or https URL; the document's first server URL is used when it is one."));
        }
        if (!string.IsNullOrEmpty(uri!.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            return (null, new("upstreamBase", "invalid_upstream_base", "upstreamBase may not have a query or a fragment: operation paths are appended to it."));
        }
        return (candidate!.TrimEnd('/'), null);
    }

    // On Unix "/v1" parses as an absolute file: URI, so the scheme is what tells a URL from a path.
    private static bool IsHttp(string? text, out Uri? uri) =>
        Uri.TryCreate(text, UriKind.Absolute, out uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    /// <summary>The operations include/exclude leave; a name in include, exclude or prices that matches no operation is an error.</summary>
    private static (List<ImportedOperation> Selected, List<ValidationError> Errors) Select(IReadOnlyList<ImportedOperation> operations, LinkImportRequest request)
    {
        var errors = new List<ValidationError>();
        foreach (var (field, names) in new[] { ("include", request.Include), ("exclude", request.Exclude), ("prices", request.Prices?.Keys.ToList()) })
        {
            foreach (var name in names ?? [])
            {
                if (!operations.Any(o => Names(o, name)))
                {
                    errors.Add(new(field, "unknown_operation", $"'{name}' names no operation of the document (use an operationId or \"METHOD /path\")."));
                }
            }
        }
        var duplicates = operations.Where(o => o.OperationId is not null).GroupBy(o => o.OperationId).Where(g => g.Count() > 1).Select(g => g.Key);
        errors.AddRange(duplicates.Select(d => new ValidationError("document", "duplicate_operation_id", $"operationId '{d}' is used by more than one operation.")));
        var selected = operations
            .Where(o => request.Include is null || request.Include.Any(n => Names(o, n)))
            .Where(o => request.Exclude is null || !request.Exclude.Any(n => Names(o, n)))
            .ToList();
        if (errors.Count == 0 && selected.Count == 0)
        {
            errors.Add(new("include", "no_operations", "include and exclude leave no operation to import."));
        }
        return (selected, errors);
    }

    private static bool Names(ImportedOperation operation, string name) =>
        name == operation.OperationId || string.Equals(name.Trim(), operation.MethodAndPath, StringComparison.OrdinalIgnoreCase);

    private static LinkDraft Draft(LinkDraft shared, ImportedOperation operation, string upstream, LinkImportRequest request)
    {
        // An operationId names one operation exactly, so its price wins over one given by method and path.
        var named = request.Prices?.OrderBy(p => p.Key == operation.OperationId ? 0 : 1).FirstOrDefault(p => Names(operation, p.Key));
        var price = named is { Key: not null } found ? found.Value : request.DefaultPrice;
        return shared with
        {
            Upstream = upstream,
            Price = price ?? UsdInput.Of(null),
            Methods = [operation.Method],
            Name = Cut(operation.Summary ?? operation.OperationId ?? operation.MethodAndPath, 200),
            Description = operation.Description is { Length: > 0 } d ? Cut(d, 2000) : null,
            Tags = Tags(operation.Tags, request.Tags),
            InputSchema = operation.InputSchema is { } input ? new(true, System.Text.Json.JsonSerializer.SerializeToElement(input)) : default,
            OutputSchema = operation.OutputSchema is { } output ? new(true, System.Text.Json.JsonSerializer.SerializeToElement(output)) : default,
            ExampleRequest = operation.ExampleRequest is { Length: <= ListingRules.MaxExampleLength } example ? example : null,
        };
    }

    /// <summary>The operation's tags made listing tags (lower case, '-' for other characters), then the request's; at most ten.</summary>
    private static List<string>? Tags(IReadOnlyList<string> operationTags, IReadOnlyList<string>? requestTags)
    {
        var tags = operationTags
            .Select(t => new string(t.Trim().ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray()).Trim('-'))
            .Where(t => t.Length is > 0 and <= ListingRules.MaxTagLength)
            .Concat(requestTags ?? [])
            .Distinct()
            .Take(ListingRules.MaxTags)
            .ToList();
        return tags.Count > 0 ? tags : null;
    }

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    private static string StatusOf((ImportedOperation, string, PaidLink?, string? ExistingId, List<ValidationError> Errors) p, string otherwise) =>
        p.ExistingId is not null ? Statuses.Exists : p.Errors.Count > 0 ? Statuses.Invalid : otherwise;

    private static ImportedItem Item(
        (ImportedOperation Operation, string Upstream, PaidLink? Link, string? ExistingId, List<ValidationError> Errors) p, string status, LinkView? view = null) =>
        new(p.Operation.Key, p.Operation.Method, p.Operation.Path, p.Upstream, status, p.Link?.Price, view, view?.Id ?? p.ExistingId,
            p.Errors.Count == 0 ? null : p.Errors.Select(e => new ImportError(p.Operation.Key, e.Field, e.Code, e.Message)).ToList());

    private static ImportReport Report(bool dryRun, string upstreamBase, IEnumerable<ImportedItem> items)
    {
        var list = items.ToList();
        return new(dryRun, upstreamBase, list.Count(i => i.Status == Statuses.Created), list.Count(i => i.Status == Statuses.Exists),
            list.Count(i => i.Status == Statuses.Invalid), list);
    }

    private static ImportOutcome Refused(ValidationError error) => new([error], null, ImportResultKind.BadRequest);
}
