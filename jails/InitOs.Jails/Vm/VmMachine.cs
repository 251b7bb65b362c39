using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using InitOs.Jails.Vm.Kvm;
using InitOs.Sys;

namespace InitOs.Jails.Vm;

/// <summary>How a VM ended, as QEMU's SHUTDOWN event says it.</summary>
public enum VmEnd
{
    /// <summary>QEMU ended without saying (killed, or crashed).</summary>
    Unknown,
    /// <summary>The guest rebooted (with -no-reboot QEMU ends then).</summary>
    GuestReboot,
    /// <summary>The guest powered off or halted.</summary>
    GuestPowerOff,
    /// <summary>The guest's kernel panicked (pvpanic): a crash.</summary>
    GuestPanic,
    /// <summary>Asked from outside (QMP quit, a signal to QEMU).</summary>
    Host,
}

/// <summary>
/// A running VM jail: the QEMU process (a child of the caller, who reaps it) and a thread on
/// its QMP socket that records how the guest ended. <see cref="PowerDown"/> asks the guest
/// to shut down (ACPI power button); <see cref="Quit"/> ends QEMU.
/// </summary>
public sealed class VmMachine : IDisposable
{
    private readonly Socket _qmp;
    private readonly object _gate = new();
    private VmEnd _end = VmEnd.Unknown;

    private readonly StreamReader _events;

    private VmMachine(int pid, Socket qmp)
    {
        Pid = pid;
        _qmp = qmp;
        _events = new StreamReader(new NetworkStream(qmp, ownsSocket: false), Encoding.UTF8);
    }

    /// <summary>
    /// QMP's greeting comes once QEMU's machine is built, and the answer to qmp_capabilities once
    /// its main loop runs: a QEMU that cannot run the machine (KVM that fails) ends before either.
    /// </summary>
    private bool Handshake()
    {
        _qmp.ReceiveTimeout = 60_000;
        try
        {
            if (_events.ReadLine() is null)
            {
                return false;
            }
            Send("{\"execute\":\"qmp_capabilities\"}");
            while (_events.ReadLine() is { } line)
            {
                if (line.Contains("\"return\"", StringComparison.Ordinal))
                {
                    Thread.Sleep(300);
                    return Processes.IsAlive(Pid);
                }
                if (QmpEvents.EndOf(line) is { } end)
                {
                    Ended(end);
                }
            }
            return false;
        }
        catch (IOException)
        {
            return false;
        }
        finally
        {
            _qmp.ReceiveTimeout = 0;
        }
    }

    public int Pid { get; }

    /// <summary>Whether the VM runs under KVM (else TCG).</summary>
    public bool Kvm { get; private init; }

    public VmEnd End
    {
        get
        {
            lock (_gate)
            {
                return _end;
            }
        }
    }

    /// <summary>
    /// Starts QEMU and connects to its QMP socket (it listens before the guest runs). Without an
    /// accelerator in the spec, <see cref="Accelerator"/> chooses: KVM only when a probe guest
    /// really ran under it (INITOS_QEMU_ACCEL names one instead).
    /// </summary>
    public static VmMachine Start(VmSpec spec, Action<string>? log = null)
    {
        if (spec.Kvm is null)
        {
            var verdict = Accelerator.Choose(Accelerator.FromEnvironment(), QemuBinary.Of(spec));
            log?.Invoke(verdict.Reason);
            spec = spec with { Kvm = verdict.Kvm };
        }
        return StartWith(spec);
    }

    private static VmMachine StartWith(VmSpec spec)
    {
        File.Delete(spec.QmpSocket);
        var args = VmCommand.Arguments(spec);
        // QEMU's own messages (errors included) go to a log beside the QMP socket when the console is elsewhere.
        var log = spec.Serial is null ? null : spec.QmpSocket + ".log";
        if (log is not null)
        {
            File.WriteAllText(log, "");
        }
        var qemu = QemuBinary.Of(spec);
        int pid = Processes.Spawn(qemu.Executable, args, qemu.Environment, log, newSession: true);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                socket.Connect(new UnixDomainSocketEndPoint(spec.QmpSocket));
                var machine = new VmMachine(pid, socket) { Kvm = spec.Kvm == true };
                if (!machine.Handshake())
                {
                    machine.Dispose();
                    throw new SocketException((int)SocketError.ConnectionReset);
                }
                new Thread(machine.ReadEvents) { IsBackground = true, Name = "vm-qmp" }.Start();
                return machine;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && Processes.IsAlive(pid))
            {
                Thread.Sleep(50);
            }
            catch (SocketException e)
            {
                // Gone or stuck: end it and collect it here (it was never handed to the caller to reap).
                Processes.Signal(pid, Signal.Kill);
                Processes.Wait(pid);
                var said = log is not null && File.Exists(log) ? File.ReadAllText(log).Trim() : "";
                throw new JailVmException($"QEMU (pid {pid}) did not open its QMP socket {spec.QmpSocket}: {e.Message}{(said.Length > 0 ? "; QEMU said: " + said : "")}");
            }
        }
    }

    /// <summary>The ACPI power button: a guest that listens shuts down (busybox init does not; see Quit).</summary>
    public void PowerDown() => Send("{\"execute\":\"system_powerdown\"}");

    public void Quit() => Send("{\"execute\":\"quit\"}");

    private void Send(string command)
    {
        try
        {
            _qmp.Send(Encoding.UTF8.GetBytes(command + "\n"));
        }
        catch (SocketException)
        {
            // QEMU is gone: nothing to ask.
        }
    }

    private void ReadEvents() => QmpEvents.Pump(_events, Ended);

    private void Ended(VmEnd end)
    {
        lock (_gate)
        {
            if (_end == VmEnd.Unknown)
            {
                _end = end;
            }
        }
    }

    public void Dispose()
    {
        _events.Dispose();
        _qmp.Dispose();
    }
}

/// <summary>A VM could not be started; the message says what and why.</summary>
public sealed class JailVmException(string message) : Exception(message);
