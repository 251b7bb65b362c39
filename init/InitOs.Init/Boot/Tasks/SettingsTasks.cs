using InitOs.Init.Config;

namespace InitOs.Init.Boot.Tasks;

/// <summary>Reads the kernel command line and the config file into <see cref="BootSettings"/>.</summary>
public static class SettingsTasks
{
    public static void Read(BootContext context, string cmdlinePath = "/proc/cmdline")
    {
        var cmdline = KernelCommandLine.Parse(File.ReadAllText(cmdlinePath));
        // The policy is known before the config is read, so a broken config can still be handled as asked.
        context.Policy = SettingsBuilder.PolicyFrom(cmdline, context.Policy);
        var config = ReadConfig(context);
        context.Policy = SettingsBuilder.PolicyFrom(cmdline, config.OnFailure);
        var settings = SettingsBuilder.Build(config, cmdline);
        context.Settings = settings with { InitArguments = context.InitArguments };
        foreach (var warning in settings.Warnings)
        {
            context.Log.Warn(warning);
        }
        context.Log.Info(Describe(context.Settings));
    }

    private static InitosConfig ReadConfig(BootContext context)
    {
        if (!File.Exists(context.ConfigPath))
        {
            context.Log.Info($"no {context.ConfigPath}; using built-in defaults");
            return new InitosConfig();
        }
        return ConfigLoader.Load(context.ConfigPath);
    }

    private static string Describe(BootSettings s) =>
        $"mode={ConfigNames.Name(s.Mode)} root={s.Root ?? "(none)"} fstype={s.RootFsType ?? "auto"} " +
        $"{(s.ReadWrite ? "rw" : "ro")} flags={s.RootFlags ?? ""} init={s.Init} rootwait={s.RootWait.TotalSeconds}s " +
        $"on_failure={ConfigNames.Name(s.OnFailure)}{(s.BreakBefore is null ? "" : " break=" + s.BreakBefore)}";
}
