using InitOs.TestKit;

namespace InitOs.JailTests;

/// <summary>
/// crun's own OCI-runtime suite against `initos jail` (scripts/crun-suite.sh: the team's runner and
/// a two-line wrapper, the tests from Debian's crun source package). Every test
/// tests/peers/crun-suite/initos-expected.txt marks "pass" must pass; its failures carry their reasons.
/// </summary>
[Collection(JailCollection.Name)]
public sealed class CrunSuiteTests
{
    [Fact]
    public void Every_test_expected_to_pass_passes()
    {
        var expected = Lines(File.ReadAllText(Path.Combine(RepoPaths.Root, "tests/peers/crun-suite/initos-expected.txt")));
        var result = Tool.Exec("bash", [Path.Combine(RepoPaths.Root, "scripts/crun-suite.sh")], timeout: TimeSpan.FromMinutes(15));
        var actual = Lines(result.Out);

        Assert.True(actual.Count > 100, $"the suite did not run:\n{result.Out}\n{result.Err}");
        var regressed = expected.Where(e => e.Value == "pass" && actual.GetValueOrDefault(e.Key) != "pass").Select(e => $"{e.Key}: {actual.GetValueOrDefault(e.Key, "missing")}").ToList();
        Assert.True(regressed.Count == 0, $"expected to pass, did not:\n{string.Join('\n', regressed)}\n\n{result.Out}\n{result.Err}");
        Assert.Matches(@"\d+ passed, \d+ failed, \d+ skipped", result.Out);
    }

    /// <summary>"pass|fail|skip FILE:TEST[  # why]" lines → test → its status.</summary>
    private static Dictionary<string, string> Lines(string text) =>
        text.Split('\n')
            .Select(l => l.Split("  #")[0].Trim())
            .Where(l => l.StartsWith("pass ", StringComparison.Ordinal) || l.StartsWith("fail ", StringComparison.Ordinal) || l.StartsWith("skip ", StringComparison.Ordinal))
            .Select(l => l.Split(' ', 3))
            .ToDictionary(p => p[1], p => p[0], StringComparer.Ordinal);
}
