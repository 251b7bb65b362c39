using InitOs.Sys;

namespace InitOs.Jails.Vm.Kvm;

/// <summary>What a caller asks for: KVM only when proven (auto), or one of them regardless.</summary>
public enum AccelRequest
{
    Auto,
    Kvm,
    Tcg,
}

/// <summary>The accelerator chosen, and why (for a log line).</summary>
public sealed record AccelVerdict(bool Kvm, string Reason)
{
    public string Name => Kvm ? "kvm" : "tcg";
}

/// <summary>
/// The one place that decides between KVM and TCG, for the VM launcher (mode vm, inside the
/// machine), `initos run` and the test harness. "auto" trusts KVM only after a probe guest
/// really ran under it within <see cref="KvmProbe.Deadline"/>: a /dev/kvm that opens proves
/// nothing under nested virtualization, where guests can hang for ever. The verdict is kept
/// for the machine's uptime (the file names the boot it was made in).
/// </summary>
public static class Accelerator
{
    /// <summary>auto, kvm or tcg: overrides auto wherever no accelerator is named.</summary>
    public const string EnvironmentVariable = "INITOS_QEMU_ACCEL";

    private const string BootIdFile = "/proc/sys/kernel/random/boot_id";

    public static AccelRequest Parse(string text, string what) => text switch
    {
        "auto" => AccelRequest.Auto,
        "kvm" => AccelRequest.Kvm,
        "tcg" => AccelRequest.Tcg,
        _ => throw new ArgumentException($"{what}: \"{text}\" is not one of auto, kvm, tcg"),
    };

    /// <summary><see cref="EnvironmentVariable"/>, or auto when it is unset or empty.</summary>
    public static AccelRequest FromEnvironment() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } text ? Parse(text, EnvironmentVariable) : AccelRequest.Auto;

    /// <summary>
    /// Where the verdict is kept: the user's cache directory on a workstation, /run/initos in
    /// the machine (PID 1 has no home). Either way it holds only for the boot that made it.
    /// </summary>
    public static string DefaultCacheFile =>
        Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } cache ? Path.Combine(cache, "initos", "accel")
        : Environment.GetEnvironmentVariable("HOME") is { Length: > 1 } home ? Path.Combine(home, ".cache", "initos", "accel")
        : "/run/initos/accel";

    public static AccelVerdict Choose(AccelRequest request, QemuBinary qemu, string? cacheFile = null) => request switch
    {
        AccelRequest.Kvm => new AccelVerdict(true, "KVM: asked for (accel kvm); using KVM"),
        AccelRequest.Tcg => new AccelVerdict(false, "KVM: not asked for (accel tcg); using TCG"),
        _ => Proven(qemu, cacheFile ?? DefaultCacheFile),
    };

    private static AccelVerdict Proven(QemuBinary qemu, string cacheFile)
    {
        var boot = BootId();
        if (boot is not null && Cached(cacheFile, boot) is { } known)
        {
            return known;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(cacheFile)!);
        var verdict = Judge(qemu, Path.GetDirectoryName(cacheFile)!);
        try
        {
            if (boot is not null)
            {
                AtomicFile.WriteText(cacheFile, $"{boot}\n{verdict.Name}\n{verdict.Reason}\n");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SysException)
        {
            // A verdict not kept is made again next time: slower, never wrong.
        }
        return verdict;
    }

    /// <summary>The probe, without the cache: /dev/kvm first, then a guest that must really run.</summary>
    public static AccelVerdict Judge(QemuBinary qemu, string workDirectory) =>
        Judge(qemu, workDirectory, "/dev/kvm", "kvm", ProbeFirmware.Bytes);

    /// <summary>
    /// The same decision with its parts named, so a test can make each outcome real on a machine
    /// without KVM: any device that opens, TCG in KVM's place, a firmware that never writes.
    /// </summary>
    internal static AccelVerdict Judge(QemuBinary qemu, string workDirectory, string device, string accel, ReadOnlySpan<byte> firmware)
    {
        if (!File.Exists(device))
        {
            return new AccelVerdict(false, $"KVM: there is no {device}; using TCG");
        }
        try
        {
            using var opened = File.Open(device, FileMode.Open, FileAccess.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new AccelVerdict(false, $"KVM: {device} does not open ({e.Message}); using TCG");
        }
        return Verdict(KvmProbe.Run(qemu, accel, firmware, KvmProbe.Deadline, workDirectory));
    }

    /// <summary>What a probe under KVM means for the choice.</summary>
    public static AccelVerdict Verdict(ProbeResult probe)
    {
        var seconds = KvmProbe.Deadline.TotalSeconds;
        return probe.Outcome switch
        {
            ProbeOutcome.Ran => new AccelVerdict(true, $"KVM: a probe guest reached long mode in {probe.Elapsed.TotalMilliseconds:F0} ms; using KVM"),
            ProbeOutcome.Hung => new AccelVerdict(false, $"KVM: /dev/kvm opens but a probe guest did not run in {seconds:0.#} s; using TCG"),
            _ => new AccelVerdict(false, $"KVM: /dev/kvm opens but QEMU could not run a probe guest with it ({probe.Detail}); using TCG"),
        };
    }

    private static AccelVerdict? Cached(string cacheFile, string boot)
    {
        try
        {
            var lines = File.ReadAllLines(cacheFile);
            return lines.Length >= 3 && lines[0] == boot && lines[1] is "kvm" or "tcg"
                ? new AccelVerdict(lines[1] == "kvm", $"{lines[2]} (the verdict of this boot, kept in {cacheFile})")
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>This boot's id; null when the kernel does not say (then nothing is kept).</summary>
    private static string? BootId()
    {
        try
        {
            return File.ReadAllText(BootIdFile).Trim() is { Length: > 0 } id ? id : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
