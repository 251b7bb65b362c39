using System.Globalization;
using System.Text.RegularExpressions;
using InitOs.ImageBuild.Initramfs;
using InitOs.Jails.Vm.Kvm;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// The README tells the truth about what the build makes: every size it quotes is either the
/// build's, between &lt;!-- size:NAME --&gt; and &lt;!-- /size --&gt; and checked here against the
/// build of this run, or a measurement marked &lt;!-- measured --&gt; with the command that made it;
/// and its list of Debian packages names every package scripts/install-prereqs.sh installs.
/// </summary>
[Collection(BootCollection.Name)]
public sealed partial class ReadmeTests
{
    private static readonly string Readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));

    [Fact]
    public void Every_size_the_readme_quotes_is_the_builds_or_a_marked_measurement()
    {
        using var dir = new TempDirectory();
        var initramfs = dir.File("initramfs.img");
        InitramfsBuilder.Build(new InitramfsSpec
        {
            BoxBinary = RepoPaths.Require(RepoPaths.Box, "make box"),
            KernelDirectory = RepoPaths.Require(RepoPaths.KernelDirectory, "make kernel"),
            ConfigFile = RepoPaths.DefaultConfig,
        }, initramfs);
        var built = new Dictionary<string, string>
        {
            ["box"] = MiB(new FileInfo(RepoPaths.Box).Length),
            ["initramfs"] = MiB(new FileInfo(initramfs).Length),
            ["kvm-probe"] = $"{ProbeFirmware.Size / 1024} KiB",
        };
        var quoted = SizeMarker().Matches(Readme).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["value"].Value);
        Assert.Equal(built.Keys.Order(), quoted.Keys.Order());
        foreach (var (name, value) in built)
        {
            Assert.True(SameSize(quoted[name], value), $"README.md quotes {quoted[name]} for {name}; the build makes {value}: write that between <!-- size:{name} --> and <!-- /size -->");
        }
        var unmarked = Measured().Replace(SizeMarker().Replace(Readme, ""), "");
        var typed = AnySize().Matches(unmarked).Select(m => m.Value).ToList();
        Assert.True(typed.Count == 0, $"README.md quotes sizes that are neither checked (size markers) nor marked as measurements: {string.Join(", ", typed)}");
    }

    [Fact]
    public void The_readme_names_every_debian_package_the_prereqs_script_installs()
    {
        var script = File.ReadAllText(Path.Combine(RepoPaths.Root, "scripts/install-prereqs.sh"));
        var list = script[(script.IndexOf("packages=(", StringComparison.Ordinal) + 10)..];
        list = list[..list.IndexOf("\n)", StringComparison.Ordinal)];
        var packages = list.Split('\n').Select(l => l.Split('#')[0]).SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.NotEmpty(packages);
        var section = Readme[Readme.IndexOf("Debian packages (installed by", StringComparison.Ordinal)..];
        var missing = packages.Where(p => !Regex.IsMatch(section, $@"(?<![\w-]){Regex.Escape(p)}(?![\w-])")).ToList();
        Assert.True(missing.Count == 0, $"README.md's Debian package list lacks: {string.Join(", ", missing)}");
    }

    /// <summary>
    /// Equal, or for MiB figures within 0.1 MiB: the box embeds `git describe` (a commit hash),
    /// so the compressed initramfs moves by kilobytes from commit to commit, and a size near a
    /// rounding boundary would flip between 15.0 and 15.1 with no change a reader cares about.
    /// </summary>
    private static bool SameSize(string quoted, string built) =>
        quoted == built || (Megabytes(quoted) is { } q && Megabytes(built) is { } b && Math.Abs(q - b) < 0.1 + 1e-9);

    private static double? Megabytes(string size) =>
        size.EndsWith(" MiB", StringComparison.Ordinal) && double.TryParse(size[..^4], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static string MiB(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F1} MiB");

    [GeneratedRegex(@"<!-- size:(?<name>[\w-]+) -->(?<value>.*?)<!-- /size -->")]
    private static partial Regex SizeMarker();

    [GeneratedRegex(@"<!-- measured -->.*?<!-- /measured -->", RegexOptions.Singleline)]
    private static partial Regex Measured();

    [GeneratedRegex(@"\b\d+(\.\d+)?\s*(KiB|MiB|GiB|KB|MB|GB|kB)\b")]
    private static partial Regex AnySize();
}
