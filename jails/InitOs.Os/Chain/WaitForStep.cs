using System.Diagnostics;
using System.Globalization;
using InitOs.Sys;

namespace InitOs.Os.Chain;

/// <summary>
/// `chain wait-for tcp:HOST:PORT|file:PATH [--timeout SECONDS]`: go on once a TCP port accepts a
/// connection (the probe is closed at once) or a path exists; after the timeout (default 30 s)
/// the chain stops, naming what it waited for and the last reason it was not ready.
/// </summary>
public static class WaitForStep
{
    public abstract record Target(string Text)
    {
        /// <summary>null when ready, else why not.</summary>
        public abstract string? Check(TimeSpan attemptTimeout);
    }

    /// <summary>IPv4, as the box's TCP connections are; a name is resolved at each try (a service's name may appear late).</summary>
    public sealed record TcpTarget(string Text, string Host, int Port) : Target(Text)
    {
        public override string? Check(TimeSpan attemptTimeout)
        {
            try
            {
                var addresses = HostNames.ResolveIPv4(Host);
                if (addresses.Count == 0)
                {
                    return $"{Host} has no IPv4 address";
                }
                using var connection = TcpConnection.Connect(addresses[0], Port, attemptTimeout);
                return null;
            }
            catch (Exception e) when (e is SysException or ResolveException)
            {
                return e.Message;
            }
        }
    }

    public sealed record FileTarget(string Text, string Path) : Target(Text)
    {
        public override string? Check(TimeSpan attemptTimeout) =>
            File.Exists(Path) || Directory.Exists(Path) ? null : "it does not exist";
    }

    public static ChainState Run(IReadOnlyList<string> args, ChainState state)
    {
        var (target, timeout) = Parse(args);
        Wait(target, timeout);
        return state;
    }

    public static (Target Target, TimeSpan Timeout) Parse(IReadOnlyList<string> args)
    {
        Target? target = null;
        var timeout = TimeSpan.FromSeconds(30);
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "--timeout")
            {
                if (i + 1 >= args.Count || !double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds <= 0 || seconds > 86400)
                {
                    throw new ChainException("--timeout needs a number of seconds (above 0, at most 86400)");
                }
                timeout = TimeSpan.FromSeconds(seconds);
                i++;
            }
            else if (target is null)
            {
                target = ParseTarget(args[i]);
            }
            else
            {
                throw new ChainException($"one target only; \"{args[i]}\" is a second");
            }
        }
        return (target ?? throw new ChainException("expects tcp:HOST:PORT or file:PATH"), timeout);
    }

    public static Target ParseTarget(string text)
    {
        if (text.StartsWith("file:", StringComparison.Ordinal) && text.Length > 5)
        {
            return new FileTarget(text, text[5..]);
        }
        if (text.StartsWith("tcp:", StringComparison.Ordinal))
        {
            var rest = text[4..];
            int colon = rest.LastIndexOf(':');
            var host = colon > 0 ? rest[..colon] : "";
            if (host.Contains(':', StringComparison.Ordinal) || host.StartsWith('['))
            {
                throw new ChainException($"\"{text}\": IPv6 addresses are not waited for (the box's TCP is IPv4); give an IPv4 address or a name");
            }
            if (host.Length > 0 && int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536)
            {
                return new TcpTarget(text, host, port);
            }
            throw new ChainException($"\"{text}\" is not tcp:HOST:PORT (a port from 1 to 65535)");
        }
        throw new ChainException($"\"{text}\" is not tcp:HOST:PORT or file:PATH");
    }

    /// <summary>Tries every 100 ms, up to 1 s apart as time goes on, until ready or <paramref name="timeout"/>.</summary>
    public static void Wait(Target target, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var pause = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            var left = timeout - clock.Elapsed;
            var reason = target.Check(left < TimeSpan.FromSeconds(2) ? left.Duration() : TimeSpan.FromSeconds(2));
            if (reason is null)
            {
                return;
            }
            left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new ChainException($"{target.Text} not ready after {timeout.TotalSeconds:0.#} s: {reason}");
            }
            Thread.Sleep(pause < left ? pause : left);
            pause = TimeSpan.FromMilliseconds(Math.Min(1000, pause.TotalMilliseconds * 2));
        }
    }
}
