using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace InitOs.ImageBuild.Qemu;

/// <summary>
/// A running QEMU whose serial console is captured: wait for a marker with a timeout,
/// type into the console, and kill the machine on dispose so nothing outlives its user.
/// </summary>
public sealed class QemuSession : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly object _gate = new();
    private readonly TextWriter? _echo;
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _reader;

    private QemuSession(Process process, TextWriter? echo)
    {
        _process = process;
        _echo = echo;
        _reader = Task.Run(ReadOutput);
    }

    public static QemuSession Start(QemuOptions options, TextWriter? echo = null)
    {
        var info = new ProcessStartInfo(QemuCommand.Binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in QemuCommand.Arguments(options with { SerialFile = null }))
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + QemuCommand.Binary);
        return new QemuSession(process, echo);
    }

    public string Log
    {
        get
        {
            lock (_gate)
            {
                return _log.ToString();
            }
        }
    }

    public bool HasExited => _exited.Task.IsCompleted;

    public int? ExitCode => HasExited ? _process.ExitCode : null;

    /// <summary>
    /// Waits until the console log matches <paramref name="pattern"/>; the match, or a timeout error carrying
    /// the whole log. The log may end in the middle of a line: anchor a pattern whose tail matters (\r?\n).
    /// </summary>
    public Match WaitFor(string pattern, TimeSpan timeout)
    {
        var regex = new Regex(pattern, RegexOptions.Multiline);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var match = regex.Match(Log);
            if (match.Success)
            {
                return match;
            }
            if (HasExited)
            {
                throw new QemuTimeoutException($"QEMU exited ({_process.ExitCode}) before /{pattern}/ appeared", Log);
            }
            if (deadline.Elapsed > timeout)
            {
                throw new QemuTimeoutException($"/{pattern}/ did not appear within {timeout.TotalSeconds:F0} s", Log);
            }
            lock (_gate)
            {
                Monitor.Wait(_gate, TimeSpan.FromMilliseconds(100));
            }
        }
    }

    /// <summary>Waits for QEMU to end by itself (a guest poweroff or reboot with -no-reboot).</summary>
    public void WaitForExit(TimeSpan timeout)
    {
        if (!_exited.Task.Wait(timeout))
        {
            throw new QemuTimeoutException($"QEMU still running after {timeout.TotalSeconds:F0} s", Log);
        }
        _reader.Wait(TimeSpan.FromSeconds(5));
    }

    /// <summary>Types into the serial console.</summary>
    public void Send(string text)
    {
        _process.StandardInput.Write(text);
        _process.StandardInput.Flush();
    }

    private async Task ReadOutput()
    {
        var buffer = new char[4096];
        var stderr = _process.StandardError.ReadToEndAsync();
        while (true)
        {
            int n = await _process.StandardOutput.ReadAsync(buffer).ConfigureAwait(false);
            if (n <= 0)
            {
                break;
            }
            Append(new string(buffer, 0, n));
        }
        Append(await stderr.ConfigureAwait(false));
        await _process.WaitForExitAsync().ConfigureAwait(false);
        _exited.TrySetResult();
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }
    }

    private void Append(string text)
    {
        lock (_gate)
        {
            _log.Append(text);
            Monitor.PulseAll(_gate);
        }
        _echo?.Write(text);
        _echo?.Flush();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _reader.Wait(TimeSpan.FromSeconds(5));
        _process.Dispose();
    }
}

/// <summary>A wait on the console that ran out; the message carries the console log.</summary>
public sealed class QemuTimeoutException : Exception
{
    public QemuTimeoutException(string message, string log)
        : base($"{message}\n----- serial console -----\n{log}\n----- end of serial console -----")
    {
        ConsoleLog = log;
    }

    public QemuTimeoutException() { ConsoleLog = ""; }
    public QemuTimeoutException(string message) : base(message) { ConsoleLog = ""; }
    public QemuTimeoutException(string message, Exception inner) : base(message, inner) { ConsoleLog = ""; }

    public string ConsoleLog { get; }
}
