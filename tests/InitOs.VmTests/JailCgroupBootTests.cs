using System.Globalization;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// cgroup v2 limits of jails, where they can hold: in a QEMU guest whose PID 1 is InitOS (it
/// leaves rootfs, mounts pure cgroup2 and shares /), jails started from the console shell with
/// `initos jail` against a memory hog, a fork bomb and a spinning loop.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class JailCgroupBootTests
{
    private static readonly string Config = GuestConfig.Pid1(GuestConfig.ConsoleShell);

    private const int MemoryLimitMiB = 48, PidsLimit = 16;

    private static readonly string Resources = $$"""
        , "resources": {
          "memory": { "limit": {{MemoryLimitMiB * 1024 * 1024}}, "swap": {{MemoryLimitMiB * 1024 * 1024}} },
          "pids": { "limit": {{PidsLimit}} },
          "cpu": { "quota": 20000, "period": 100000 }
        }
        """;

    private readonly BootImages _images;

    public JailCgroupBootTests(BootImages images) => _images = images;

    [Fact]
    public void Memory_pids_and_cpu_limits_hold_in_the_jails_own_cgroup_and_namespace()
    {
        using var bundles = new TempDirectory("initos-cgroup-bundles-");
        var hogs = BuildHogs(bundles);
        WriteRootfs(Path.Combine(bundles.Path, "rootfs"), hogs);
        WriteBundle(bundles.Path, "forkbomb", "/bin/cgroup-hogs forkbomb 200");
        WriteBundle(bundles.Path, "memory", "/bin/cgroup-hogs memory 256; echo HOG-STATUS=$?; grep oom_kill /sys/fs/cgroup/memory.events");
        WriteBundle(bundles.Path, "spin", "/bin/cgroup-hogs spin 3000");
        WriteBundle(bundles.Path, "plain", "echo PLAIN $(cat /proc/self/cgroup)", limits: false);
        WriteBundle(bundles.Path, "view", "echo VIEW $(cat /proc/self/cgroup) $(cat /sys/fs/cgroup/memory.max) $(cat /sys/fs/cgroup/pids.max) $(cat /sys/fs/cgroup/cpu.max); sleep 600");
        var initramfs = _images.InitramfsWith("cgroup", Config, new Dictionary<string, string> { ["bundles"] = bundles.Path });
        using var vm = new VmBoot(nameof(Memory_pids_and_cpu_limits_hold_in_the_jails_own_cgroup_and_namespace), _images, "", initramfs);
        vm.Expect("service console: started");

        // The host side that PID 1 prepared: / is a shared mount that is not rootfs, cgroup2 on /sys/fs/cgroup.
        Run(vm, "grep -E ' / / | /sys/fs/cgroup ' /proc/self/mountinfo", "HOST-MOUNTS");
        Assert.Matches(@" / / rw[^\n]* shared:\d+", vm.Session.Log);
        Assert.Matches(@"/sys/fs/cgroup [^\n]* - cgroup2 cgroup2 rw,nsdelegate", vm.Session.Log);

        // Every jail gets its own cgroup, with limits or without (this one has no cgroup namespace).
        Run(vm, "initos jail run --bundle /bundles/plain plain", "PLAIN-RUN");
        vm.Expect("PLAIN 0::/initos/plain");

        Run(vm, "initos jail run --bundle /bundles/forkbomb fb", "FORKBOMB-RUN");
        var bomb = vm.Expect(@"FORKBOMB forked=(?<n>\d+) error=(?<e>[^\r\n]+)");
        int forked = int.Parse(bomb.Groups["n"].Value, CultureInfo.InvariantCulture);
        // The shell (the jail's PID 1) and the bomb itself count against pids.max too.
        Assert.True(forked < PidsLimit, bomb.Value);
        Assert.Equal("Resource temporarily unavailable", bomb.Groups["e"].Value.Trim());

        Run(vm, "initos jail run --bundle /bundles/memory mem", "MEMORY-RUN");
        vm.Expect("HOG-STATUS=137");
        Assert.Matches(@"oom_kill [1-9]", vm.Expect(@"oom_kill \d+").Value);
        var allocated = System.Text.RegularExpressions.Regex.Matches(vm.Session.Log, @"MEMORY allocated=(\d+)");
        Assert.True(allocated.Count > 0, "the hog allocated something before it was killed");
        Assert.True(int.Parse(allocated[^1].Groups[1].Value, CultureInfo.InvariantCulture) <= MemoryLimitMiB, allocated[^1].Value);
        Assert.DoesNotContain("MiB allocated", vm.Session.Log, StringComparison.Ordinal);

        Run(vm, "initos jail run --bundle /bundles/spin spin", "SPIN-RUN");
        var spin = vm.Expect(@"SPIN wall_ms=(?<wall>\d+) cpu_ms=(?<cpu>\d+)");
        double share = double.Parse(spin.Groups["cpu"].Value, CultureInfo.InvariantCulture) / double.Parse(spin.Groups["wall"].Value, CultureInfo.InvariantCulture);
        // cpu.max is 20 ms per 100 ms; unlimited, the loop would get the whole CPU.
        Assert.True(share < 0.4, $"{spin.Value}: {share:P0} of a CPU");

        // exec lands in the jail's cgroup, and the cgroup namespace makes it the root there.
        Run(vm, "initos jail create --bundle /bundles/view view && initos jail start view", "VIEW-START");
        vm.Expect(@"VIEW 0::/ 50331648 16 20000 100000");
        Run(vm, "initos jail exec view sh -c 'echo EXEC-CGROUP=$(cat /proc/self/cgroup)'", "VIEW-EXEC");
        vm.Expect("EXEC-CGROUP=0::/");
        Run(vm, "initos jail delete --force view", "VIEW-DELETE");
        vm.Session.Send("echo CGROUPS-LEFT=$(find /sys/fs/cgroup/initos -mindepth 1 -type d | wc -l)\n");
        vm.Expect(@"CGROUPS-LEFT=0\b");
    }

    /// <summary>Runs a console command and waits for its marker line with the exit status.</summary>
    private static void Run(VmBoot vm, string command, string marker)
    {
        vm.Session.Send($"{command}; echo {marker}=$?\n");
        Assert.Equal($"{marker}=0", vm.Expect($@"{marker}=\d+", TimeSpan.FromSeconds(120)).Value);
    }

    private static string BuildHogs(TempDirectory scratch)
    {
        var output = scratch.File("cgroup-hogs");
        Tool.Run("gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o", output,
            Path.Combine(RepoPaths.Root, "tests/InitOs.VmTests/Workloads/cgroup-hogs.c"));
        return output;
    }

    private static void WriteRootfs(string rootfs, string hogs)
    {
        foreach (var dir in new[] { "bin", "proc", "dev", "tmp", "sys/fs/cgroup" })
        {
            Directory.CreateDirectory(Path.Combine(rootfs, dir));
        }
        File.Copy("/bin/busybox", Path.Combine(rootfs, "bin/busybox"));
        foreach (var applet in new[] { "sh", "cat", "grep", "sleep", "echo" })
        {
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        }
        File.Move(hogs, Path.Combine(rootfs, "bin/cgroup-hogs"));
    }

    /// <summary>One bundle per workload, all on the shared ../rootfs, with the same limits and a cgroup namespace (or neither).</summary>
    private static void WriteBundle(string bundles, string name, string script, bool limits = true)
    {
        var directory = Path.Combine(bundles, name);
        Directory.CreateDirectory(directory);
        var args = System.Text.Json.JsonSerializer.Serialize(new[] { "/bin/sh", "-c", script });
        File.WriteAllText(Path.Combine(directory, "config.json"), $$"""
            {
              "ociVersion": "1.0.2",
              "root": { "path": "../rootfs" },
              "process": { "args": {{args}}, "env": ["PATH=/bin"], "cwd": "/" },
              "hostname": "{{name}}",
              "mounts": [
                { "destination": "/proc", "type": "proc", "source": "proc" },
                { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev"] }
              ],
              "linux": {
                "namespaces": [ { "type": "pid" }, { "type": "mount" }, { "type": "uts" }, { "type": "ipc" }{{(limits ? ", { \"type\": \"cgroup\" }" : "")}} ]
                {{(limits ? Resources : "")}}
              }
            }
            """);
    }
}
