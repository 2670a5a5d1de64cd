using System.Text.Json.Serialization;
using X402Serverless.Core.Links;

namespace X402Serverless.Handler.Requests;

/// <summary>
/// The JSON contracts of request bodies, source-generated: camelCase names, no member left unmapped (a misspelt
/// or unknown field is refused by name, never silently ignored), numbers only where a number is meant.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    NumberHandling = JsonNumberHandling.Strict,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(LinkDraft))]
[JsonSerializable(typeof(Management.LinkImportRequest))]
[JsonSerializable(typeof(System.Text.Json.JsonElement))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(Core.Money.UsdInput?))]
[JsonSerializable(typeof(PayerRequest))]
[JsonSerializable(typeof(BudgetRequest))]
[JsonSerializable(typeof(TopUpRequest))]
[JsonSerializable(typeof(CreditGrantRequest))]
[JsonSerializable(typeof(Core.Passes.PassOfferDraft))]
[JsonSerializable(typeof(WebhookEndpointRequest))]
internal sealed partial class ApiJson : JsonSerializerContext;
