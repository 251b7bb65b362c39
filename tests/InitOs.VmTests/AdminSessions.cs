using InitOs.Admin;

namespace InitOs.VmTests;

/// <summary>The tests' SSH.NET sessions with a guest's sidecar.</summary>
internal static class AdminSessions
{
    /// <summary>
    /// Runs the admin command once sshd answers: until it listens (or while it makes its first
    /// host key) the connection fails, and that is retried for up to two minutes.
    /// </summary>
    public static AdminResult RunWhenUp(AdminClient client, AdminTarget target, string command) =>
        WhenUp(() => client.Run(target, command));

    /// <summary>Repeats an ssh attempt while the connection fails (sshd still starting), for at most 120 s.</summary>
    public static AdminResult WhenUp(Func<AdminResult> attempt)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var result = attempt();
            if (result.ExitCode != AdminClient.ConnectionFailed || DateTime.UtcNow > deadline)
            {
                return result;
            }
            Thread.Sleep(500);
        }
    }
}
