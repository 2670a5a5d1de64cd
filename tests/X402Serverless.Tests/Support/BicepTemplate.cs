using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;

namespace X402Serverless.Tests.Support;

/// <summary>
/// infra/main.bicep compiled to ARM JSON by the Bicep CLI that restore downloads (Azure.Bicep.CommandLine), once per
/// test run, with the linter's diagnostics. Compiling needs no network: the templates use no registry modules.
/// </summary>
internal sealed class BicepTemplate
{
    private static readonly Lazy<Task<BicepTemplate>> Compiled = new(CompileAsync);

    private BicepTemplate(JsonObject main, IReadOnlyList<string> diagnostics)
    {
        Main = main;
        Diagnostics = diagnostics;
        Inner = Main["resources"]!.AsArray().Single(r => (string?)r!["type"] == "Microsoft.Resources/deployments")!["properties"]!["template"]!.AsObject();
    }

    /// <summary>The subscription-scoped template (the resource group and the nested deployment).</summary>
    public JsonObject Main { get; }

    /// <summary>The nested deployment's template: resources.bicep.</summary>
    public JsonObject Inner { get; }

    /// <summary>Every warning or error from `bicep build` and `bicep lint`.</summary>
    public IReadOnlyList<string> Diagnostics { get; }

    public static Task<BicepTemplate> LoadAsync() => Compiled.Value;

    public IEnumerable<JsonObject> Resources(string type) =>
        Main["resources"]!.AsArray().Concat(Inner["resources"]!.AsArray()).Select(r => r!.AsObject()).Where(r => (string?)r["type"] == type);

    public JsonObject Resource(string type) => Resources(type).Single();

    public IEnumerable<JsonObject> AllResources => Main["resources"]!.AsArray().Concat(Inner["resources"]!.AsArray()).Select(r => r!.AsObject());

    private static async Task<BicepTemplate> CompileAsync()
    {
        var bicep = typeof(BicepTemplate).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepCliPath").Value!;
        if (!File.Exists(bicep))
        {
            throw new FileNotFoundException($"The Bicep CLI is not at {bicep}; `dotnet restore` downloads it (Azure.Bicep.CommandLine.linux-x64).");
        }
        var main = Path.Combine(RepoPaths.Root, "infra", "main.bicep");
        var output = Path.Combine(Path.GetTempPath(), "x402-bicep-" + Guid.NewGuid().ToString("N"), "main.json");
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        var build = await RunAsync(bicep, "build", main, "--outfile", output);
        var lint = await RunAsync(bicep, "lint", main);
        var diagnostics = (build.Output + "\n" + lint.Output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.Contains(" : Warning ", StringComparison.Ordinal) || l.Contains(" : Error ", StringComparison.Ordinal)).Distinct().ToList();
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException($"bicep build failed:\n{build.Output}");
        }
        return new BicepTemplate(JsonNode.Parse(await File.ReadAllTextAsync(output))!.AsObject(), diagnostics);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["BICEP_TRACING_ENABLED"] = "false";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
