using System.Globalization;
using System.Text.Json;
using InitOs.Init.Supervision;

namespace InitOs.Box;

/// <summary>
/// `initos admin COMMAND`: what an administrator's ssh session runs. sshd forces every session
/// into it and passes the words the client asked for in SSH_ORIGINAL_COMMAND, so nothing but
/// these commands is reachable. Every word is checked; a bad request changes nothing and says why.
/// </summary>
internal static class AdminApplet
{
    private const string Usage = """
        commands (over ssh: ssh root@HOST COMMAND):
          status [--json]     hostname, uptime, kernel, services
          services [--json]   the services PID 1 supervises
          reboot              reboot the machine
          poweroff            power the machine off
          help                this text
        """;

    public static int Run(string[] args)
    {
        var words = Environment.GetEnvironmentVariable("SSH_ORIGINAL_COMMAND") is { } requested
            ? requested.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : args;
        if (words.FirstOrDefault(w => !w.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) is { } bad)
        {
            return Refuse($"'{bad}' is not a word an admin command takes (letters, digits, '-', '_', '.')");
        }
        return words switch
        {
            [] or ["help"] => Help(),
            ["status"] => Status(json: false),
            ["status", "--json"] => Status(json: true),
            ["services", .. var rest] => ControlApplets.Services(rest),
            ["reboot"] => ControlApplets.Reboot([]),
            ["poweroff"] => ControlApplets.PowerOff([]),
            [var command, ..] when IsCommand(command) => Refuse($"{command}: unexpected arguments '{string.Join(' ', words[1..])}'"),
            [var command, ..] => Refuse($"unknown command '{command}'"),
        };
    }

    private static bool IsCommand(string word) => word is "help" or "status" or "services" or "reboot" or "poweroff";

    private static int Help()
    {
        Console.Write(Usage);
        return 0;
    }

    private static int Refuse(string problem)
    {
        Console.Error.WriteLine($"initos admin: {problem}");
        Console.Error.Write(Usage);
        return 2;
    }

    private static int Status(bool json)
    {
        var hostname = File.ReadAllText("/proc/sys/kernel/hostname").Trim();
        var uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture);
        var kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        var services = File.Exists(StatusFile.DefaultPath) ? File.ReadAllText(StatusFile.DefaultPath) : null;
        if (!json)
        {
            Console.WriteLine($"hostname: {hostname}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"uptime:   {uptime:F1} s"));
            Console.WriteLine($"kernel:   {kernel}");
            Console.WriteLine(services is null ? "services: none (PID 1 supervises no services)" : StatusFile.Table());
            return 0;
        }
        using var output = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("hostname", hostname);
            writer.WriteNumber("uptime_seconds", Math.Round(uptime, 2));
            writer.WriteString("kernel", kernel);
            writer.WritePropertyName("supervision");
            if (services is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteRawValue(services);
            }
            writer.WriteEndObject();
        }
        Console.WriteLine();
        return 0;
    }
}
