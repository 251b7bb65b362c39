using Renci.SshNet;
using Renci.SshNet.Common;

namespace InitOs.Admin;

/// <summary>One admin command's outcome on one machine.</summary>
public sealed record AdminResult(string Host, int ExitCode, string Output, string Error, TimeSpan Took)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>Where and how to reach a machine's sidecar.</summary>
public sealed record AdminTarget(string Host, int Port = 22, string User = "root")
{
    /// <summary>"host", "host:port" or "user@host:port".</summary>
    public static AdminTarget Parse(string text)
    {
        var user = "root";
        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            user = text[..at];
            text = text[(at + 1)..];
        }
        var colon = text.LastIndexOf(':');
        if (colon > 0 && int.TryParse(text[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) && port is > 0 and < 65536)
        {
            return new AdminTarget(text[..colon], port, user);
        }
        return text.Length > 0 && !text.Contains(' ', StringComparison.Ordinal) && user.Length > 0
            ? new AdminTarget(text, 22, user)
            : throw new ArgumentException($"\"{text}\" is not a host, host:port or user@host:port");
    }

    public override string ToString() => $"{User}@{Host}:{Port}";
}

/// <summary>
/// Runs one admin command on one machine over SSH (SSH.NET), key-only, with the host key
/// pinned in a known-hosts file. Connection problems become a result with exit code 255, as
/// OpenSSH's client reports them, so a fleet run can tabulate them.
/// </summary>
public sealed class AdminClient(string keyFile, KnownHosts knownHosts, TimeSpan timeout)
{
    public const int ConnectionFailed = 255;

    /// <param name="input">Sent as the command's stdin, then closed (`upgrade apply` reads a bundle there); null: none.</param>
    public AdminResult Run(AdminTarget target, string command, Stream? input = null)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        string? refusal = null;
        try
        {
            using var key = new PrivateKeyFile(keyFile);
            var connection = new ConnectionInfo(target.Host, target.Port, target.User, new PrivateKeyAuthenticationMethod(target.User, key)) { Timeout = timeout };
            using var client = new SshClient(connection);
            client.HostKeyReceived += (_, e) =>
            {
                refusal = knownHosts.Check(target.Host, target.Port, e.HostKeyName, "SHA256:" + e.FingerPrintSHA256);
                e.CanTrust = refusal is null;
            };
            client.Connect();
            using var ssh = client.CreateCommand(command);
            ssh.CommandTimeout = timeout;
            string output;
            if (input is null)
            {
                output = ssh.Execute();
            }
            else
            {
                var running = ssh.BeginExecute();
                var sent = Task.Run(() => Send(ssh, input));
                // A command that ends before reading all of stdin (a refused bundle) closes its
                // channel, but SSH.NET's stdin write keeps waiting for window space until the
                // command timeout; the answer is taken as soon as the command ends, and closing the
                // connection then ends the write.
                WaitHandle.WaitAny([running.AsyncWaitHandle, ((IAsyncResult)sent).AsyncWaitHandle]);
                output = ssh.EndExecute(running);
            }
            return new AdminResult(target.ToString(), ssh.ExitStatus ?? ConnectionFailed, output, ssh.Error, started.Elapsed);
        }
        catch (Exception e) when (e is SshException or System.Net.Sockets.SocketException or TimeoutException or IOException)
        {
            return new AdminResult(target.ToString(), ConnectionFailed, "", refusal ?? e.Message, started.Elapsed);
        }
    }

    private static void Send(SshCommand ssh, Stream input)
    {
        try
        {
            using var stdin = ssh.CreateInputStream();
            input.CopyTo(stdin);
        }
        catch (Exception e) when (e is SshException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The command stopped reading, or the connection closed after it ended: its answer and exit status still come.
        }
    }
}
