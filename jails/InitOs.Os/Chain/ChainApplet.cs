using InitOs.Sys;

namespace InitOs.Os.Chain;

/// <summary>
/// `initos chain HELPER ARGS -- COMMAND…`: one helper does one thing (mount, sshd, env, user,
/// wait-for) and then execs COMMAND in its place, which may be the next helper, so a jail's
/// process reads as a chain: `initos tini -- initos chain mount … -- initos chain user app --
/// app`. The exit codes of env(1) and chroot(1): 125 when the helper itself failed, 126 when
/// COMMAND cannot run, 127 when it is not found.
/// </summary>
public static class ChainApplet
{
    public const int HelperFailed = 125;

    private static readonly Dictionary<string, Func<IReadOnlyList<string>, ChainState, ChainState>> Helpers = new(StringComparer.Ordinal)
    {
        ["mount"] = MountStep.Run,
        ["sshd"] = SshdStep.Run,
        ["env"] = EnvStep.Run,
        ["user"] = UserStep.Run,
        ["wait-for"] = WaitForStep.Run,
    };

    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == SshdKeeper.Applet)
        {
            return SshdKeeper.Run(args[1..]);
        }
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            Console.Write(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        var name = args[0];
        if (!Helpers.TryGetValue(name, out var helper))
        {
            Console.Error.WriteLine($"initos chain: unknown helper '{name}'; helpers: {string.Join(", ", Helpers.Keys)}");
            return 2;
        }
        ChainArguments parsed;
        try
        {
            parsed = ChainArguments.Split(name, args[1..]);
        }
        catch (ChainException e)
        {
            Console.Error.WriteLine($"initos chain {name}: {e.Message}");
            return 2;
        }
        ChainState state;
        try
        {
            state = helper(parsed.HelperArguments, ChainState.Current());
        }
        catch (ChainException e)
        {
            Console.Error.WriteLine($"initos chain {name}: {e.Message}");
            return HelperFailed;
        }
        return Exec(name, parsed.Command, state);
    }

    private static int Exec(string helper, IReadOnlyList<string> command, ChainState state)
    {
        try
        {
            Processes.ExecSearchingPath(command[0], command, state.Environment);
        }
        catch (SysException e)
        {
            Console.Error.WriteLine($"initos chain {helper}: cannot run {command[0]}: {e.Message}");
            return e.Errno is Errno.ENOENT or Errno.ENOTDIR ? 127 : 126;
        }
        return 126;
    }

    public const string Usage = """
        Usage: initos chain HELPER [ARGS] -- COMMAND [ARGS]

        Does one thing, then runs COMMAND in its place (COMMAND may be the next helper):
          mount [-t TYPE] [-o OPTIONS] SOURCE TARGET
                                 mount a disk (/dev/NAME, LABEL=, UUID=, PARTUUID=, PARTLABEL=;
                                 its type probed when -t is not given) or tmpfs; TARGET is made
          sshd --port P --keys FILE [--dropbear PATH]
                                 a key-only dropbear beside COMMAND, restarted if it dies (the
                                 keys are shown to it in a mount namespace of its own; nothing is
                                 written to the jail)
          env FILE               add FILE's KEY=VALUE lines to the environment (# comments)
          user USER[:GROUP]      become USER (name or number) with its groups, or GROUP
          wait-for tcp:HOST:PORT|file:PATH [--timeout SECONDS]
                                 wait until the port accepts or the file exists (default 30 s)

        Exit status: COMMAND's; 125 if the helper failed, 126 if COMMAND cannot run, 127 if it
        is not found. Example:
          initos tini -- initos chain mount -t tmpfs -o size=64m tmpfs /scratch \
            -- initos chain user app -- /usr/bin/app

        """;
}
