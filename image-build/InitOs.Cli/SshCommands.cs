using System.CommandLine;
using InitOs.Admin;

namespace InitOs.Cli;

/// <summary>`initos ssh HOST [-- COMMAND]` and `initos fleet --hosts FILE [--parallel N] -- COMMAND`.</summary>
internal static class SshCommands
{
    private static string DefaultKey => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ssh", "id_ed25519");

    public static Command Ssh()
    {
        var host = new Argument<string>("HOST") { Description = "host, host:port or user@host:port (user root by default)" };
        var command = new Argument<string[]>("COMMAND") { Description = "the admin command (after --); default: status", Arity = ArgumentArity.ZeroOrMore };
        var (key, knownHosts, timeout) = Common();
        var ssh = new Command("ssh", "run an admin command on one machine's sidecar (host key pinned on first use)") { host, command, key, knownHosts, timeout };
        ssh.SetAction(r =>
        {
            // The one command that reads stdin gets it: `initos ssh HOST -- upgrade apply < bundle.tar`. Others never
            // wait on a stdin nobody closes.
            var words = Words(r.GetValue(command));
            using var input = Console.IsInputRedirected && words.StartsWith("upgrade apply", StringComparison.Ordinal) ? Console.OpenStandardInput() : null;
            var result = Client(r.GetValue(key)!, r.GetValue(knownHosts)!, r.GetValue(timeout)).Run(AdminTarget.Parse(r.GetValue(host)!), words, input);
            Console.Write(result.Output);
            Console.Error.Write(result.Error);
            return result.ExitCode;
        });
        return ssh;
    }

    public static Command FleetCommand()
    {
        var hosts = Cli.Option<string>("--hosts", "a file with one host (host, host:port or user@host:port) per line; # starts a comment");
        hosts.Required = true;
        var parallel = Cli.Option<int>("--parallel", "machines at a time", () => 8);
        var command = new Argument<string[]>("COMMAND") { Description = "the admin command (after --)", Arity = ArgumentArity.OneOrMore };
        var (key, knownHosts, timeout) = Common();
        var fleet = new Command("fleet", "run an admin command on many machines at once (after --); a table of results; exit 1 if any failed. `fleet upgrade` and `fleet status`: rollouts in waves")
        {
            hosts, parallel, command, key, knownHosts, timeout, RolloutCommands.Upgrade(), RolloutCommands.Status(),
        };
        fleet.SetAction(r =>
        {
            var client = Client(r.GetValue(key)!, r.GetValue(knownHosts)!, r.GetValue(timeout));
            var words = Words(r.GetValue(command));
            var results = Fleet.Run(Fleet.ReadHosts(r.GetValue(hosts)!), r.GetValue(parallel), target => client.Run(target, words));
            Console.WriteLine(Fleet.Table(results));
            return results.All(x => x.Succeeded) ? 0 : 1;
        });
        return fleet;
    }

    internal static (Option<string> Key, Option<string> KnownHosts, Option<int> Timeout) Common() =>
        (Cli.Option<string>("--key", "the private key (OpenSSH format)", () => DefaultKey),
         Cli.Option<string>("--known-hosts", "where host keys are pinned", () => KnownHosts.DefaultPath),
         Cli.Option<int>("--timeout", "seconds for connecting and for the command", () => 30));

    internal static AdminClient Client(string key, string knownHosts, int timeoutSeconds)
    {
        if (!File.Exists(key))
        {
            throw new FileNotFoundException($"the private key {key} does not exist (--key)");
        }
        return new AdminClient(key, new KnownHosts(knownHosts), TimeSpan.FromSeconds(timeoutSeconds));
    }

    private static string Words(string[]? command) => command is { Length: > 0 } ? string.Join(' ', command) : "status";
}
