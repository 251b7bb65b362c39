using System.Globalization;
using System.Text.Json;
using InitOs.Init.Supervision;

namespace InitOs.Sidecar.Admin;

/// <summary>
/// `initos admin COMMAND`: what an administrator's ssh session runs. sshd forces every session
/// into it and passes the words the client asked for in SSH_ORIGINAL_COMMAND, so nothing but
/// these commands is reachable. Every word is checked; a bad request changes nothing and says why.
/// </summary>
public static class AdminApplet
{
    private const string Usage = """
        commands (over ssh: ssh root@HOST COMMAND; a key's role, viewer unless marked, says which it may run):
          status [--json]     hostname, uptime, kernel, mode, boot phase timings, disks, mounts, jails, services
          services [--json]   the services PID 1 supervises
          logs [--follow]     the kernel's ring buffer, InitOS's own log lines included
          hardware --json     this machine's devices (modaliases), modules and filesystems: for `initos build initramfs --profile host --hardware FILE`
          services restart NAME   (operator) stop a service (SIGTERM); PID 1 starts it again
          services kill NAME      (operator) kill a service (SIGKILL), as a crash would; PID 1 restarts it after its backoff
          reboot              (operator) reboot the machine
          poweroff            (operator) power the machine off
          jail debug NAME [WORD...]   (admin) a toolbox shell (or WORDs run by it) in a running jail's namespaces; ssh -t for a terminal
        """ + "\n" + Upgrades.UpgradeCommand.Usage + "\n" + DiskCommand.Usage + "\n" + """
          help                this text

        """;

    public static int Run(string[] args)
    {
        string[] words = [];
        try
        {
            (var session, var rest) = AdminSession.Parse(args);
            words = Environment.GetEnvironmentVariable("SSH_ORIGINAL_COMMAND") is { } requested
                ? requested.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : rest;
            if (words.FirstOrDefault(w => !IsAdminWord(w)) is { } bad)
            {
                Audit(session, ["(refused words)"], "refused: not admin words");
                return Refuse($"'{bad}' is not a word an admin command takes (letters, digits, '-', '_', '.', '/', ':', '@')");
            }
            var needed = AdminRoles.Needed(words);
            if (needed > session.Role)
            {
                Audit(session, words, $"refused: needs {AdminRoles.Name(needed)}");
                Console.Error.WriteLine($"initos admin: {string.Join(' ', words.Take(2))} needs the {AdminRoles.Name(needed)} role; this key ({session.Key}) is {AdminRoles.Name(session.Role)}");
                return 2;
            }
            Audit(session, words, "run");
            return Dispatch(words);
        }
        catch (Exception e)
        {
            // An admin session never ends in a stack trace (or exit 134): one line, exit 2.
            Console.Error.WriteLine($"initos admin: {string.Join(' ', words)}: {e.Message.ReplaceLineEndings(" ")}");
            return 2;
        }
    }

    /// <summary>
    /// What a word may hold: names, versions, paths, and registry references (HOST:PORT/REPO:TAG,
    /// REPO@sha256:HEX). Nothing a shell or a log reader would take for syntax.
    /// </summary>
    private static bool IsAdminWord(string word) => word.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ':' or '@');

    private static int Dispatch(string[] words)
    {
        return words switch
        {
            [] or ["help"] => Help(),
            ["status"] => Status(json: false),
            ["status", "--json"] => Status(json: true),
            ["services", "restart", var name] => Bounce(name, Sys.Signal.Term, "restarted"),
            ["services", "kill", var name] => Bounce(name, Sys.Signal.Kill, "killed and restarted"),
            ["services", .. var rest] => ServicesCommand.Run(rest),
            ["hardware", "--json"] => Hardware(),
            ["logs"] => KernelLog.Print(follow: false),
            ["logs", "--follow"] => KernelLog.Print(follow: true),
            ["jail", "debug", var name, .. var rest] => JailDebug.Run(name, rest),
            ["upgrade", .. var rest] => Upgrades.UpgradeCommand.Run(rest),
            ["disk", .. var rest] => DiskCommand.Run(rest),
            ["reboot"] => SystemdShutdown.Run(ShutdownKind.Reboot),
            ["poweroff"] => SystemdShutdown.Run(ShutdownKind.PowerOff),
            [var command, ..] when IsCommand(command) => Refuse($"{command}: unexpected arguments '{string.Join(' ', words[1..])}'"),
            [var command, ..] => Refuse($"unknown command '{command}'"),
        };
    }

    // Sessions with a key are ssh sessions: each is on record. Root at the machine is not audited.
    private static void Audit(AdminSession session, string[] words, string verdict)
    {
        if (session.Key is not null)
        {
            AdminAudit.Record(session, words, verdict);
        }
    }

    private static bool IsCommand(string word) => word is "help" or "status" or "services" or "reboot" or "poweroff" or "logs" or "jail" or "hardware" or "upgrade" or "disk";

    /// <summary>This machine's inventory, for `initos build initramfs --profile host --hardware FILE` on a workstation.</summary>
    private static int Hardware()
    {
        Console.Write(Init.Modules.HardwareInventory.Take().ToJson());
        return 0;
    }

    /// <summary>
    /// A signal to the service's process; PID 1's supervisor starts it again (after the backoff
    /// when the signal looks like a crash). Waits until it has.
    /// </summary>
    private static int Bounce(string name, int signal, string done)
    {
        var before = ServiceEntry(name);
        if (before is null)
        {
            return Refuse($"no service named '{name}'");
        }
        if (before.Value.Pid <= 0 || before.Value.State != "running")
        {
            return Refuse($"service {name} is {before.Value.State}, not running");
        }
        Sys.Processes.Signal(before.Value.Pid, signal);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            Thread.Sleep(100);
            if (ServiceEntry(name) is { State: "running" } after && after.Starts > before.Value.Starts)
            {
                Console.WriteLine($"{done} {name}: pid {before.Value.Pid} → {after.Pid}");
                return 0;
            }
        }
        Console.Error.WriteLine($"initos admin: {name} was stopped and has not come back within 30 s (state: {ServiceEntry(name)?.State}); `services` shows why");
        return 1;
    }

    private static ServiceRow? ServiceEntry(string name) => StatusFile.Find(name);

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
        var boot = File.Exists(Init.Boot.BootRecord.Path) ? File.ReadAllText(Init.Boot.BootRecord.Path) : null;
        var services = File.Exists(StatusFile.DefaultPath) ? StatusFile.Read() : null;
        var mounts = MachineFacts.Mounts();
        var disks = MachineFacts.Disks();
        var jails = MachineFacts.Jails();
        if (json)
        {
            WriteJson(hostname, uptime, kernel, boot, services, mounts, disks, jails);
            return 0;
        }
        Console.WriteLine($"hostname: {hostname}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"uptime:   {uptime:F1} s"));
        Console.WriteLine($"kernel:   {kernel}");
        Console.WriteLine($"initos:   {Init.BuildVersion.Text}");
        if (boot is not null)
        {
            using var document = JsonDocument.Parse(boot);
            Console.WriteLine($"mode:     {document.RootElement.GetProperty("mode").GetString()}");
            Console.WriteLine("boot phases (start s, took ms): " + string.Join(", ", document.RootElement.GetProperty("phases").EnumerateArray()
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.GetProperty("name").GetString()} {p.GetProperty("start_uptime").GetDouble():F3} {p.GetProperty("took_ms").GetDouble():F1}"))));
        }
        Console.WriteLine($"door:     {MachineFacts.Door()}");
        Console.WriteLine("disks:    " + string.Join(", ", disks.Select(d => $"{d.Name} {d.Bytes >> 20} MiB")));
        var volumes = Init.Crypt.CryptStatus.Read();
        var onDisks = mounts.Where(m => m.Source.StartsWith("/dev/", StringComparison.Ordinal)).ToList();
        bool none = volumes.Count == 0 && onDisks.Count == 0 && Init.Storage.StorageStatus.Read().Count == 0 && Init.Storage.StorageStatus.ReadGroups().Count == 0;
        Console.WriteLine(none ? "volumes:  none (no disk mounted, no [[crypt]], [[raid]] or [[lvm]])" : "volumes:");
        foreach (var v in volumes)
        {
            Console.WriteLine($"  {v.Name} on {v.Device}: LUKS2, opened by {v.How}, /dev/mapper/{v.Name}");
        }
        foreach (var array in Init.Storage.StorageStatus.Read())
        {
            Console.WriteLine($"  array {array}");
        }
        foreach (var (group, lvs) in Init.Storage.StorageStatus.ReadGroups())
        {
            Console.WriteLine($"  volume group {group}: {(lvs.Count == 0 ? "no logical volumes" : string.Join(", ", lvs))}");
        }
        foreach (var m in onDisks)
        {
            Console.WriteLine($"  {m.Target} on {m.Source}: {MachineFacts.Encryption(m.Source, volumes)}");
        }
        Console.WriteLine("mounts:");
        foreach (var m in mounts)
        {
            Console.WriteLine($"  {m.Target} {m.Type} {m.Source}");
        }
        Console.WriteLine(jails.Count == 0 ? "jails:    none" : "jails:");
        foreach (var j in jails)
        {
            Console.WriteLine($"  {j.Id} {j.Status} pid {j.Pid} uid_map {(j.UidMap.Count == 0 ? "-" : string.Join("; ", j.UidMap))}");
        }
        Console.WriteLine(services is null ? "services: none (PID 1 supervises no services)" : StatusFile.Table());
        return 0;
    }

    private static void WriteJson(string hostname, double uptime, string kernel, string? boot, string? services, IReadOnlyList<MachineFacts.Mount> mounts, IReadOnlyList<MachineFacts.Disk> disks, IReadOnlyList<MachineFacts.Jail> jails)
    {
        using var output = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("hostname", hostname);
            writer.WriteNumber("uptime_seconds", Math.Round(uptime, 2));
            writer.WriteString("kernel", kernel);
            writer.WriteString("initos_version", Init.BuildVersion.Text);
            WriteRawOrNull(writer, "boot", boot);
            WriteArray(writer, "disks", disks, (w, d) =>
            {
                w.WriteString("name", d.Name);
                w.WriteNumber("bytes", d.Bytes);
            });
            WriteArray(writer, "volumes", Init.Crypt.CryptStatus.Read(), (w, v) =>
            {
                w.WriteString("name", v.Name);
                w.WriteString("device", v.Device);
                w.WriteString("encryption", "luks2");
                w.WriteString("opened_by", v.How);
                w.WriteString("mapping", $"/dev/mapper/{v.Name}");
            });
            WriteArray(writer, "arrays", Init.Storage.StorageStatus.Read(), (w, a) =>
            {
                w.WriteString("name", a.Name);
                w.WriteString("device", a.Device);
                w.WriteString("level", a.Level);
                w.WriteNumber("active", a.Active);
                w.WriteNumber("total", a.Total);
                w.WriteBoolean("degraded", a.Degraded);
            });
            WriteArray(writer, "mounts", mounts, (w, m) =>
            {
                w.WriteString("target", m.Target);
                w.WriteString("type", m.Type);
                w.WriteString("source", m.Source);
            });
            WriteArray(writer, "jails", jails, (w, j) =>
            {
                w.WriteString("id", j.Id);
                w.WriteString("status", j.Status);
                w.WriteNumber("pid", j.Pid);
                w.WriteStartArray("uid_map");
                foreach (var line in j.UidMap)
                {
                    w.WriteStringValue(line);
                }
                w.WriteEndArray();
            });
            WriteRawOrNull(writer, "supervision", services);
            writer.WriteEndObject();
        }
        Console.WriteLine();
    }

    /// <summary>An array of objects, one per item, whose members <paramref name="members"/> writes.</summary>
    private static void WriteArray<T>(Utf8JsonWriter writer, string name, IEnumerable<T> items, Action<Utf8JsonWriter, T> members)
    {
        writer.WriteStartArray(name);
        foreach (var item in items)
        {
            writer.WriteStartObject();
            members(writer, item);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    private static void WriteRawOrNull(Utf8JsonWriter writer, string name, string? json)
    {
        writer.WritePropertyName(name);
        if (json is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteRawValue(json);
        }
    }
}
