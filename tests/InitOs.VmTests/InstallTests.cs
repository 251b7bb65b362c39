using InitOs.Tools;
using InitOs.Init;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// `make install` gives a workstation `initos` that works from any directory with nothing of
/// the repository around it (its box, default config and kernel installed beside it), and
/// `make uninstall` takes all of it away. The box and kernel that `make test` has just built
/// are taken as they are (make -o), so the test rebuilds nothing the suite is using.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class InstallTests
{
    [Fact]
    public void Make_install_gives_an_initos_that_builds_from_any_directory_and_uninstall_removes_it()
    {
        using var prefix = new TempDirectory("initos-prefix-");
        using var elsewhere = new TempDirectory("initos-elsewhere-");
        var installed = Make("install");
        Assert.True(installed.Code == 0, installed.ToString());

        var initos = Path.Combine(prefix.Path, "bin", "initos");
        // Nothing from the repository's environment: the installed CLI finds its own files.
        var bare = new Dictionary<string, string> { ["INITOS_BOX"] = "", ["INITOS_KERNEL_DIR"] = "", ["HOME"] = elsewhere.Path };
        var version = Tool.Exec(initos, ["--version"], elsewhere.Path, bare);
        Assert.Equal($"{BuildVersion.Text}\n", version.Out);
        var box = Tool.Exec(Path.Combine(prefix.Path, "lib/initos/box/initos"), ["version"]);
        Assert.Equal($"initos {BuildVersion.Text}\n", box.Out);
        // The runtime under runc's kind of name, for podman --runtime.
        var runtime = Tool.Exec(Path.Combine(prefix.Path, "lib/initos/box/initos-runc"), ["--version"]);
        Assert.StartsWith($"initos jail version {BuildVersion.Text}\n", runtime.Out, StringComparison.Ordinal);

        var build = Tool.Exec(initos, ["build", "initramfs", "--zstd-level", "3", "--output", "i.img"], elsewhere.Path, bare);
        Assert.True(build.Code == 0, build.ToString());
        var osRelease = Tool.Run("sh", "-c", $"zstd -dc {elsewhere.File("i.img")} | cpio -i --quiet --to-stdout etc/os-release");
        Assert.Contains($"VERSION_ID={BuildVersion.Text}\n", osRelease, StringComparison.Ordinal);

        // A signed bundle: built, verified against the key, refused for another machine class, inspected.
        Tool.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "release", "-f", elsewhere.File("release"));
        InitOs.TestKit.TestUki.Write(elsewhere.File("uki.efi"), "2.0");
        var bundled = Tool.Exec(initos, ["build", "bundle", "--version", "2.0", "--compatible", "lab", "--uki", "uki.efi", "--key", "release", "--output", "b.tar"], elsewhere.Path, bare);
        Assert.True(bundled.Code == 0, bundled.ToString());
        Assert.Contains("[upgrade] keys = [\"ssh-ed25519 ", bundled.Out, StringComparison.Ordinal);
        var verified = Tool.Exec(initos, ["bundle", "verify", "b.tar", "--key", "release.pub", "--compatible", "lab"], elsewhere.Path, bare);
        Assert.True(verified.Code == 0, verified.ToString());
        Assert.Contains("bundle b.tar: good: version 2.0 for lab", verified.Out, StringComparison.Ordinal);
        var refusedBundle = Tool.Exec(initos, ["bundle", "verify", "b.tar", "--key", "release.pub", "--compatible", "other"], elsewhere.Path, bare);
        Assert.Equal(1, refusedBundle.Code);
        Assert.Contains("refused: the bundle is for machine class \"lab\", this machine is \"other\"", refusedBundle.Err, StringComparison.Ordinal);
        var inspected = Tool.Exec(initos, ["bundle", "inspect", "b.tar"], elsewhere.Path, bare);
        Assert.True(inspected.Code == 0, inspected.ToString());
        Assert.Contains($"uki uki.efi: {new FileInfo(elsewhere.File("uki.efi")).Length} bytes", inspected.Out, StringComparison.Ordinal);

        // Bad input is one line that names it, and nothing is written.
        File.WriteAllText(elsewhere.File("inventory.json"), "{\"kernel\": \"6.1\"} trailing");
        var refused = Tool.Exec(initos, ["build", "initramfs", "--profile", "host", "--hardware", "inventory.json", "--output", "host.img"], elsewhere.Path, bare);
        Assert.Equal(1, refused.Code);
        Assert.StartsWith("initos: inventory.json: not JSON", refused.Err, StringComparison.Ordinal);
        Assert.Single(refused.Err.TrimEnd('\n').Split('\n'));
        Assert.False(File.Exists(elsewhere.File("host.img")), "a refused build wrote its output");

        var removed = Make("uninstall");
        Assert.True(removed.Code == 0, removed.ToString());
        Assert.False(File.Exists(initos) || Directory.Exists(Path.Combine(prefix.Path, "lib/initos")), "uninstall left files behind");

        ExternalTool.Result Make(string target) =>
            Tool.Exec("make", ["-s", "-o", "box", "-o", "kernel", "-o", "prereqs", target, $"PREFIX={prefix.Path}"], RepoPaths.Root, timeout: TimeSpan.FromMinutes(10));
    }
}
