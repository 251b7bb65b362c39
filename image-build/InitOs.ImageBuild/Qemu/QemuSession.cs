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

    private QemuSession(Process process, TextWriter? echo, string? firstLine)
    {
        _process = process;
        _echo = echo;
        if (firstLine is not null)
        {
            Append(firstLine + "\n");
        }
        _reader = Task.Run(ReadOutput);
    }

    /// <summary>Starts QEMU; the accelerator's verdict (why KVM or TCG) is the log's first line.</summary>
    public static QemuSession Start(QemuOptions options, TextWriter? echo = null)
    {
        string? verdict = null;
        options = QemuCommand.WithAccelerator(options, reason => verdict = reason);
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
        return new QemuSession(process, echo, verdict is null ? null : "initos: " + verdict);
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
    /// Waits until a whole line of the console log (ended by its newline) matches
    /// <paramref name="pattern"/>: a marker is never taken from a line still being written.
    /// The match, or a timeout error carrying the whole log.
    /// </summary>
    public Match WaitFor(string pattern, TimeSpan timeout) => Wait(pattern, timeout, wholeLines: true);

    /// <summary>Like <see cref="WaitFor"/> for text that no newline follows (a shell's prompt).</summary>
    public Match WaitForPrompt(string pattern, TimeSpan timeout) => Wait(pattern, timeout, wholeLines: false);

    private Match Wait(string pattern, TimeSpan timeout, bool wholeLines)
    {
        var regex = new Regex(pattern, RegexOptions.Multiline);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            // Whether QEMU had ended before the log is read: then the log is all there will be.
            bool ended = HasExited;
            var log = Log;
            var match = regex.Match(wholeLines ? log[..(log.LastIndexOf('\n') + 1)] : log);
            if (match.Success)
            {
                return match;
            }
            if (ended)
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
            // Echoed before a waiter can see it: what a caller prints after a match follows the matched line.
            _echo?.Write(text);
            _echo?.Flush();
            _log.Append(text);
            Monitor.PulseAll(_gate);
        }
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
