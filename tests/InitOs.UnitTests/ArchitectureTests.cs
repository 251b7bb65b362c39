using System.Text.RegularExpressions;
using System.Xml.Linq;
using InitOs.TestKit;

namespace InitOs.UnitTests;

/// <summary>docs/architecture.md's arrows are the project references, no more and no fewer.</summary>
public sealed class ArchitectureTests
{
    [Fact]
    public void The_documented_arrows_are_the_project_references()
    {
        var documented = DocumentedArrows();
        var actual = ProjectReferences();
        Assert.True(documented.SetEquals(actual),
            $"docs/architecture.md and the project files differ.\nOnly in the doc: {string.Join(", ", documented.Except(actual).Order())}\nOnly in the projects: {string.Join(", ", actual.Except(documented).Order())}");
    }

    [Fact]
    public void The_jail_runtime_depends_on_the_interop_layer_only_and_efi_not_on_image_build()
    {
        var actual = ProjectReferences();
        Assert.Equal(["InitOs.Jails -> InitOs.Sys"], actual.Where(a => a.StartsWith("InitOs.Jails ->", StringComparison.Ordinal)));
        Assert.DoesNotContain(actual, a => a.StartsWith("InitOs.Efi ->", StringComparison.Ordinal) && a.EndsWith("InitOs.ImageBuild", StringComparison.Ordinal));
    }

    private static HashSet<string> DocumentedArrows()
    {
        var doc = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs/architecture.md"));
        var section = doc[doc.IndexOf("## Arrows", StringComparison.Ordinal)..];
        return Regex.Matches(section, @"^(InitOs\.\w+) -> (InitOs\.\w+)$", RegexOptions.Multiline).Select(m => m.Value).ToHashSet();
    }

    /// <summary>Every product project's references (tests excluded), as "From -> To".</summary>
    private static HashSet<string> ProjectReferences() =>
        Directory.EnumerateFiles(RepoPaths.Root, "*.csproj", SearchOption.AllDirectories)
            .Where(p => !p.Contains("/tests/", StringComparison.Ordinal) && !p.Contains("/obj/", StringComparison.Ordinal) && !p.Contains("/out/", StringComparison.Ordinal))
            .SelectMany(p => XDocument.Load(p).Descendants("ProjectReference")
                .Select(r => $"{Path.GetFileNameWithoutExtension(p)} -> {Path.GetFileNameWithoutExtension((string)r.Attribute("Include")!)}"))
            .ToHashSet();
}
