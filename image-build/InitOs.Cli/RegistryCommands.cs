using System.CommandLine;
using InitOs.ImageBuild.Bundle;
using InitOs.Init.Config;
using InitOs.Sidecar.Registry;
using InitOs.Sidecar.Upgrades;

namespace InitOs.Cli;

/// <summary>`initos push` and `initos pull`: bundles to and from an OCI registry (docs/fleet.md).</summary>
internal static class RegistryCommands
{
    public static Command Push()
    {
        var bundle = new Argument<string>("bundle") { Description = "the bundle: a directory or FILE.tar (initos build bundle)" };
        var target = new Argument<string>("reference") { Description = "REGISTRY/REPOSITORY[:TAG] (the tag defaults to the bundle's version)" };
        var (plain, ca, pin) = ConnectionOptions();
        var command = new Command("push", "push a signed bundle to an OCI registry: its blobs, its manifest under a tag, its signature as a referrer")
        {
            bundle, target, plain, ca, pin,
        };
        command.SetAction(r =>
        {
            var reference = ImageReference.Parse(r.GetValue(target)!);
            using var client = Client(reference, r.GetValue(plain), r.GetValue(ca), r.GetValue(pin));
            var report = BundlePush.Push(r.GetValue(bundle)!, reference, client, line => Console.WriteLine("  " + line));
            Console.WriteLine($"pushed {report.Reference} ({report.ManifestDigest}): {report.BlobsSent} blobs sent ({report.BytesSent} bytes), {report.BlobsSkipped} already there; signature as a referrer ({(report.ReferrersApi ? "the registry's referrers API" : $"fallback tag {RegistryClient.FallbackTag(report.ManifestDigest)}")})");
            return 0;
        });
        return command;
    }

    public static Command Pull()
    {
        var source = new Argument<string>("reference") { Description = "REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:DIGEST" };
        var output = Cli.Option<string>("--output", "where the bundle goes: FILE.tar or a directory (an OCI image layout)");
        output.Required = true;
        var config = Cli.Option<string?>("--config", "initos.toml whose [upgrade] keys, compatible and min_version decide; without it (and --key) any signer is accepted and shown");
        var keys = Cli.Option<string[]>("--key", "a trusted public key: an ssh-ed25519 line or a .pub file; repeatable");
        var cache = Cli.Option<string>("--cache", "the blob cache (a blob there is not fetched again)", () => Path.Combine(Cli.CacheDirectory, "blobs"));
        var (plain, ca, pin) = ConnectionOptions();
        var command = new Command("pull", "pull a bundle from an OCI registry, verified as a machine verifies it, into FILE.tar or a directory")
        {
            source, output, config, keys, cache, plain, ca, pin,
        };
        command.SetAction(r =>
        {
            var reference = ImageReference.Parse(r.GetValue(source)!);
            var upgrade = r.GetValue(config) is { } file ? ConfigLoader.Load(file).Upgrade : new UpgradeConfig();
            var trusted = upgrade.Keys.Concat((r.GetValue(keys) ?? []).Select(k => File.Exists(k) ? File.ReadAllText(k).Trim() : k)).ToList();
            var policy = new TrustPolicy(trusted, upgrade.Compatible, upgrade.MinVersion) { AnySigner = trusted.Count == 0 };
            using var client = Client(reference, r.GetValue(plain), r.GetValue(ca), r.GetValue(pin));
            PullReport report;
            try
            {
                report = BundlePull.Pull(reference, client, new BlobCache(r.GetValue(cache)!), policy, r.GetValue(output)!, line => Console.WriteLine("  " + line));
            }
            catch (BundleException e)
            {
                Console.Error.WriteLine($"initos: bundle {reference} refused: {e.Message}; nothing written");
                return 1;
            }
            var d = report.Bundle.Description;
            Console.WriteLine($"pulled {reference} ({report.Bundle.ManifestDigest}) into {r.GetValue(output)}: version {d.Version} for {d.Compatible}, signed by {PublicKeys.Fingerprint(report.Bundle.Key)}{(policy.AnySigner ? " (not checked against a keyring)" : "")}; {report.BytesFetched} bytes fetched, {report.CacheHits} blobs from the cache");
            return 0;
        });
        return command;
    }

    internal static (Option<bool> Plain, Option<string?> Ca, Option<string?> Pin) ConnectionOptions() => (
        Cli.Option<bool>("--plain-http", "speak plain HTTP: only to a registry on this machine (127.0.0.1, ::1, localhost), a test registry"),
        Cli.Option<string?>("--ca", "a PEM CA bundle the registry's certificate must chain to (instead of the system's roots)"),
        Cli.Option<string?>("--pin", "the SHA-256 (hex) of the registry's certificate: only that certificate is accepted"));

    private static string ReadCa(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"--ca {path}: no such file");
        }
        var text = File.ReadAllText(path);
        return text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal) ? text : throw new ArgumentException($"--ca {path}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)");
    }

    /// <summary>The client; credentials come from INITOS_REGISTRY_AUTH (user:password), never from the command line (ps would show them).</summary>
    internal static RegistryClient Client(ImageReference reference, bool plainHttp, string? ca, string? pin)
    {
        if (plainHttp && !RegistryOptions.IsLoopback(reference.Host))
        {
            throw new ArgumentException($"--plain-http: {reference.Registry} is not on this machine; plain HTTP goes only to a loopback registry (a test one)");
        }
        return InitOs.ImageBuild.Registry.HttpClientTransport.Client(reference.Registry, new RegistryOptions
        {
            PlainHttpHosts = plainHttp ? [reference.Host] : [],
            CaPem = ca is null ? null : ReadCa(ca),
            PinnedSha256 = pin,
            Credentials = Environment.GetEnvironmentVariable("INITOS_REGISTRY_AUTH"),
        });
    }
}
