using System.Diagnostics;
using InitOs.Sys;

namespace InitOs.Jails.Vm.Kvm;

/// <summary>What became of a probe guest.</summary>
public enum ProbeOutcome
{
    /// <summary>Its marker came through the serial port: the vCPU ran.</summary>
    Ran,
    /// <summary>QEMU ran, and the marker did not come before the deadline.</summary>
    Hung,
    /// <summary>QEMU ended before the marker came (it could not set up the accelerator or the machine).</summary>
    Died,
}

public sealed record ProbeResult(ProbeOutcome Outcome, TimeSpan Elapsed, string Detail);

/// <summary>
/// Boots a probe firmware (<see cref="ProbeFirmware"/>) in QEMU with one accelerator and watches
/// its serial port for the marker until a deadline. QEMU is killed and reaped before returning.
/// </summary>
public static class KvmProbe
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2);

    private static int s_runs;

    public static ProbeResult Run(QemuBinary qemu, string accel, ReadOnlySpan<byte> firmware, TimeSpan deadline, string workDirectory)
    {
        // Named without Guid: getrandom can block early in a boot, and PID 1 probes then.
        var work = Directory.CreateDirectory(Path.Combine(workDirectory, $"kvm-probe-{Environment.ProcessId}-{Interlocked.Increment(ref s_runs)}")).FullName;
        try
        {
            var rom = Path.Combine(work, "probe.bin");
            var serial = Path.Combine(work, "serial");
            var log = Path.Combine(work, "qemu.log");
            File.WriteAllBytes(rom, firmware.ToArray());
            File.WriteAllText(serial, "");
            File.WriteAllText(log, ""); // QEMU's stdio, opened (not created) by the spawn
            var args = qemu.Arguments(
            [
                "-machine", "pc,accel=" + accel, "-cpu", accel == "kvm" ? "host" : "max", "-m", "16",
                "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
                "-serial", "file:" + serial, "-bios", rom, "-no-reboot",
            ]);
            var clock = Stopwatch.StartNew();
            int pid = Processes.Spawn(qemu.Executable, args, qemu.Environment, log, newSession: true);
            try
            {
                return Watch(pid, serial, log, clock, deadline);
            }
            finally
            {
                Processes.Signal(pid, Signal.Kill);
                // PID 1's reaper may have collected it already; then there is nothing to wait for.
                Processes.Wait(pid);
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static ProbeResult Watch(int pid, string serial, string log, Stopwatch clock, TimeSpan deadline)
    {
        while (true)
        {
            // The marker first: a probe that wrote it and then ended still ran.
            if (File.ReadAllText(serial).Contains(ProbeFirmware.Marker, StringComparison.Ordinal))
            {
                return new ProbeResult(ProbeOutcome.Ran, clock.Elapsed, "");
            }
            if (!Processes.IsAlive(pid))
            {
                var said = File.ReadAllText(log).Trim().ReplaceLineEndings("; ");
                return new ProbeResult(ProbeOutcome.Died, clock.Elapsed, said.Length > 0 ? said : "no message");
            }
            if (clock.Elapsed > deadline)
            {
                return new ProbeResult(ProbeOutcome.Hung, clock.Elapsed, "");
            }
            Thread.Sleep(10);
        }
    }
}
