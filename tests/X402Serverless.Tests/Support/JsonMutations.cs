using System.Text;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;

namespace X402Serverless.Tests.Support;

/// <summary>How a valid JSON document was broken; the first three always leave it malformed.</summary>
internal enum MutationKind
{
    LoneSurrogate,
    Truncated,
    DeepNesting,
    WrongKind,
    RandomBytes,
}

internal sealed record JsonMutation(MutationKind Kind, byte[] Bytes)
{
    public bool AlwaysMalformed => Kind is MutationKind.LoneSurrogate or MutationKind.Truncated or MutationKind.DeepNesting;

    public override string ToString() => $"{Kind}: {Encoding.UTF8.GetString(Bytes)}";
}

/// <summary>
/// FsCheck generators that break a valid JSON document the ways a hostile client does: lone UTF-16 surrogates in
/// values and names, truncation, nesting beyond any reader's depth, values of the wrong kind (huge numbers,
/// arrays, objects) and random bytes.
/// </summary>
internal static class JsonMutations
{
    private const string Marker = "__fuzz_marker__";

    private static readonly string[] Surrogates = ["\"\\ud800\"", "\"a\\udc00b\"", "\"\\udfff\\ud800\"", "\"0x\\ud83d\""];

    private static readonly string[] WrongKinds =
    [
        "1e400", "-1", "0", "-0", "1.5", "123456789012345678901234567890123456789012345678901234567890123456789012345678901",
        "18446744073709551616", "9223372036854775808", "true", "null", "[]", "{}", "\"\"", "\"x\"", "[1,\"2\",{\"a\":null}]",
        "\"" + new string('9', 100) + "\"", "\"" + new string('a', 5000) + "\"",
    ];

    /// <summary>A deterministic-by-seed stream of mutations of <paramref name="validJson"/>.</summary>
    public static Gen<JsonMutation> Of(string validJson)
    {
        var nodes = Count(JsonNode.Parse(validJson)!);
        var bytes = Encoding.UTF8.GetBytes(validJson);
        var surrogateValue =
            from index in Gen.Choose(0, nodes - 1)
            from fragment in Gen.Elements(Surrogates)
            select Replace(validJson, index, fragment);
        var surrogateName =
            from index in Gen.Choose(0, nodes - 1)
            select RenameProperty(validJson, index);
        var lone = Gen.OneOf(surrogateValue, surrogateName).Select(text => new JsonMutation(MutationKind.LoneSurrogate, Encoding.UTF8.GetBytes(text)));
        var truncated = Gen.Choose(0, bytes.Length - 1).Select(n => new JsonMutation(MutationKind.Truncated, bytes[..n]));
        var deep =
            from depth in Gen.Choose(65, 400)
            from index in Gen.Choose(0, nodes - 1)
            select new JsonMutation(MutationKind.DeepNesting, Encoding.UTF8.GetBytes(Replace(validJson, index, new string('[', depth) + new string(']', depth))));
        var wrongKind =
            from index in Gen.Choose(0, nodes - 1)
            from fragment in Gen.Elements(WrongKinds)
            select new JsonMutation(MutationKind.WrongKind, Encoding.UTF8.GetBytes(Replace(validJson, index, fragment)));
        var randomBytes =
            from flips in Gen.ArrayOf(Gen.Choose(0, bytes.Length - 1).Zip(Gen.Choose(0, 255)))
            select new JsonMutation(MutationKind.RandomBytes, Flip(bytes, flips));
        return Gen.OneOf(lone, truncated, deep, wrongKind, randomBytes);
    }

    /// <summary>A fixed seed, so every run checks the same cases and a failure reproduces.</summary>
    public static Config Seeded(int cases, ulong seed = 0x402) =>
        Config.QuickThrowOnFailure.WithMaxTest(cases)
            .WithReplay(Microsoft.FSharp.Core.FSharpOption<Replay>.Some(new Replay(new Rnd(seed), Microsoft.FSharp.Core.FSharpOption<int>.None)));

    private static byte[] Flip(byte[] bytes, (int Position, int Value)[] flips)
    {
        var copy = (byte[])bytes.Clone();
        foreach (var (position, value) in flips.Length == 0 ? [(0, 0xff)] : flips)
        {
            copy[position] = (byte)value;
        }
        return copy;
    }

    // Replaces the index-th node (pre-order, root excluded) with a raw JSON fragment.
    private static string Replace(string json, int index, string fragment)
    {
        var root = JsonNode.Parse(json)!;
        var (parent, key) = Locate(root, index);
        switch (parent)
        {
            case JsonObject o:
                o[(string)key] = Marker;
                break;
            case JsonArray a:
                a[(int)key] = Marker;
                break;
        }
        return root.ToJsonString().Replace($"\"{Marker}\"", fragment, StringComparison.Ordinal);
    }

    // Renames the property that holds the index-th node (or the first one) to a lone surrogate.
    private static string RenameProperty(string json, int index)
    {
        var root = JsonNode.Parse(json)!;
        var (parent, key) = Locate(root, index);
        var owner = parent as JsonObject ?? root.AsObject();
        var name = parent is JsonObject ? (string)key : owner.First().Key;
        var value = owner[name];
        owner.Remove(name);
        owner[Marker] = value;
        return root.ToJsonString().Replace($"\"{Marker}\"", "\"\\ud800\"", StringComparison.Ordinal);
    }

    private static int Count(JsonNode node) => Children(node).Sum(c => 1 + (c.Node is null ? 0 : Count(c.Node)));

    private static (JsonNode Parent, object Key) Locate(JsonNode root, int index)
    {
        var remaining = index;
        return Find(root, ref remaining) ?? throw new ArgumentOutOfRangeException(nameof(index));
    }

    private static (JsonNode, object)? Find(JsonNode node, ref int remaining)
    {
        foreach (var (key, child) in Children(node))
        {
            if (remaining-- == 0)
            {
                return (node, key);
            }
            if (child is not null && Find(child, ref remaining) is { } found)
            {
                return found;
            }
        }
        return null;
    }

    private static List<(object Key, JsonNode? Node)> Children(JsonNode node) => node switch
    {
        JsonObject o => o.Select(p => ((object)p.Key, p.Value)).ToList(),
        JsonArray a => a.Select((n, i) => ((object)i, n)).ToList(),
        _ => [],
    };
}
