using System.Text.Json.Nodes;
using InitOs.TestKit;

namespace InitOs.JailTests;

/// <summary>
/// A busybox OCI bundle in a temp directory: rootfs with busybox-static, its applets and the
/// static escape program, and a config.json the test shapes before running it.
/// </summary>
public sealed class TestBundle : IDisposable
{
    private static readonly string[] Applets =
        ["sh", "ls", "cat", "id", "hostname", "echo", "mkdir", "mount", "ps", "true", "false", "sleep", "touch", "grep", "head", "wc", "chroot", "kill", "ping", "ip"];

    private readonly TempDirectory _dir = new("initos-bundle-");

    public TestBundle()
    {
        // Traversable by other users: an unprivileged jail's root is a host uid in its range.
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0x1ED);
        Rootfs = Path.Combine(_dir.Path, "rootfs");
        foreach (var sub in new[] { "bin", "proc", "dev", "sys", "tmp", "etc" })
        {
            System.IO.Directory.CreateDirectory(Path.Combine(Rootfs, sub));
        }
        File.Copy("/bin/busybox", Path.Combine(Rootfs, "bin/busybox"));
        foreach (var applet in Applets)
        {
            File.CreateSymbolicLink(Path.Combine(Rootfs, "bin", applet), "busybox");
        }
        File.Copy(EscapeProgram.Path, Path.Combine(Rootfs, "bin/jail-escape"));
        Config = JsonNode.Parse(DefaultConfig)!.AsObject();
    }

    public string Directory => _dir.Path;
    public string Rootfs { get; }
    public JsonObject Config { get; }

    public JsonObject Process => Config["process"]!.AsObject();

    public TestBundle WithArgs(params string[] args)
    {
        Process["args"] = new JsonArray(args.Select(a => (JsonNode)JsonValue.Create(a)!).ToArray());
        return this;
    }

    public TestBundle WithShell(string script) => WithArgs("sh", "-c", script);

    public TestBundle WithCapabilities(params string[] caps)
    {
        JsonArray Set() => new(caps.Select(c => (JsonNode)JsonValue.Create(c)!).ToArray());
        Process["capabilities"] = new JsonObject { ["bounding"] = Set(), ["effective"] = Set(), ["permitted"] = Set() };
        return this;
    }

    /// <summary>A host program copied to <paramref name="jailPath"/> with the shared libraries it needs, where the loader looks for them.</summary>
    public TestBundle WithProgram(string hostPath, string jailPath)
    {
        Copy(hostPath, jailPath);
        foreach (var library in InitOs.ImageBuild.Elf.LibraryResolver.Resolve(hostPath))
        {
            var inJail = library.Name.StartsWith("ld-linux", StringComparison.Ordinal) ? "/lib64/" + library.Name : "/lib/x86_64-linux-gnu/" + library.Name;
            if (!File.Exists(Path.Combine(Rootfs, inJail.TrimStart('/'))))
            {
                Copy(library.SourcePath, inJail);
            }
        }
        return this;
    }

    /// <summary>A file in the rootfs.</summary>
    public TestBundle WithFile(string jailPath, string text)
    {
        var path = Path.Combine(Rootfs, jailPath.TrimStart('/'));
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return this;
    }

    private void Copy(string hostPath, string jailPath)
    {
        var path = Path.Combine(Rootfs, jailPath.TrimStart('/'));
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Copy(hostPath, path, overwrite: true);
    }

    /// <summary>Writes config.json; call after shaping.</summary>
    public string Save()
    {
        File.WriteAllText(Path.Combine(Directory, "config.json"), Config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        return Directory;
    }

    public void Dispose() => _dir.Dispose();

    private const string DefaultConfig = """
        {
          "ociVersion": "1.0.2",
          "root": { "path": "rootfs", "readonly": false },
          "process": { "args": ["true"], "env": ["PATH=/bin"], "cwd": "/", "noNewPrivileges": true },
          "hostname": "testjail",
          "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"] }
          ],
          "linux": {
            "namespaces": [ { "type": "pid" }, { "type": "mount" }, { "type": "uts" }, { "type": "ipc" }, { "type": "network" } ],
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/acpi", "/proc/scsi", "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
          }
        }
        """;
}

/// <summary>tests/InitOs.JailTests/Escapes/jail-escape.c, built static once per run.</summary>
public static class EscapeProgram
{
    private static readonly Lazy<string> Built = new(Build);

    public static string Path => Built.Value;

    private static readonly string Output = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"initos-jail-escape-{Environment.ProcessId}");

    /// <summary>Removes the built program (the jail tests' cleanup calls it when they are all done).</summary>
    public static void Delete() => File.Delete(Output);

    private static string Build()
    {
        var source = System.IO.Path.Combine(RepoPaths.Root, "tests/InitOs.JailTests/Escapes/jail-escape.c");
        var output = Output;
        Tool.Run("gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o", output, source);
        return output;
    }
}
