namespace InitOs.Init.Supervision;

/// <summary>`initos services [--json]` and the admin's `services`: what PID 1 supervises, from its status file.</summary>
public static class ServicesCommand
{
    public static int Run(string[] args)
    {
        bool json = args is ["--json"];
        if (args.Length > 0 && !json)
        {
            Console.Error.WriteLine($"initos services: unknown argument '{args[0]}' (use --json for machine-readable output)");
            return 2;
        }
        if (!File.Exists(StatusFile.DefaultPath))
        {
            Console.Error.WriteLine($"initos services: {StatusFile.DefaultPath} does not exist: PID 1 supervises no services (switch_root mode hands the machine to the OS's init)");
            return 1;
        }
        Console.WriteLine(json ? StatusFile.Read() : StatusFile.Table());
        return 0;
    }
}
