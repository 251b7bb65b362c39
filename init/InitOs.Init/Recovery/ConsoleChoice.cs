using System.Text;
using InitOs.Init.Logging;
using InitOs.Sys;

namespace InitOs.Init.Recovery;

/// <summary>
/// Which console a person is at: with one console, that one; with several (a monitor and a
/// serial line), each is asked to press Enter and the first one answered wins, as sulogin
/// does. The others are told where the shell went.
/// </summary>
public static class ConsoleChoice
{
    public static ConsoleDevice? Choose(IReadOnlyList<ConsoleDevice> consoles, string what, BootLog log)
    {
        if (consoles.Count <= 1)
        {
            return consoles.Count == 0 ? null : consoles[0];
        }
        var open = new List<(ConsoleDevice Console, int Fd)>();
        try
        {
            foreach (var console in consoles)
            {
                try
                {
                    int fd = Files.Open(console.TerminalPath, OpenFlags.ReadWrite | OpenFlags.NoCtty | OpenFlags.NonBlocking | OpenFlags.CloseOnExec);
                    open.Add((console, fd));
                    Terminal.DropTypedAhead(fd);
                    Files.WriteAll(fd, Encoding.UTF8.GetBytes($"\r\n{what}: press Enter on this console to have it here\r\n"));
                }
                catch (SysException e)
                {
                    log.Warn($"console {console.Name}: {e.Message}; {what} cannot be there");
                }
            }
            log.Info($"{what}: waiting for Enter on {string.Join(", ", open.Select(o => o.Console))}");
            int chosen = open.Count == 1 ? 0 : Terminal.WaitForEnter([.. open.Select(o => o.Fd)]);
            if (chosen < 0)
            {
                return null;
            }
            var winner = open[chosen].Console;
            foreach (var (console, fd) in open.Where(o => o.Console != winner))
            {
                Files.WriteAll(fd, Encoding.UTF8.GetBytes($"\r\n{what} is on {winner.Name} ({winner.TerminalPath})\r\n"));
            }
            return winner;
        }
        finally
        {
            foreach (var (_, fd) in open)
            {
                Files.Close(fd);
            }
        }
    }
}
