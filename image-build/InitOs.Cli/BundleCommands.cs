using System.CommandLine;
using InitOs.ImageBuild.Bundle;
using InitOs.Init.Config;
using InitOs.Sidecar.Upgrades;

namespace InitOs.Cli;

/// <summary>`initos build bundle`, `initos bundle verify|inspect`: signed upgrade bundles on the workstation (docs/upgrades.md).</summary>
internal static class BundleCommands
{
    public static Command Build()
    {
        var version = Cli.Option<string>("--version", "the bundle's version (dot-separated numbers: 2.0)");
        version.Required = true;
        var uki = Cli.Option<string?>("--uki", "the signed UKI to install (initos build uki)");
        var osImages = Cli.Option<string[]>("--os-image", "NAME=FILE: an OS image (erofs, squashfs or a disk image) for images/NAME; repeatable");
        var key = Cli.Option<string>("--key", "the OpenSSH ed25519 private key that signs (ssh-keygen -t ed25519); its public line goes in [upgrade] keys");
        key.Required = true;
        var compatible = Cli.Option<string>("--compatible", "the machine class it is for ([upgrade] compatible)", () => "initos");
        var minVersion = Cli.Option<string?>("--min-version", "the anti-rollback floor it sets once installed (default: its own version's floor, 0)");
        var output = Cli.Option<string>("--output", "a directory (an OCI image layout) or FILE.tar (one file, for `upgrade apply` over ssh)");
        output.Required = true;
        var command = new Command("bundle", "build a signed upgrade bundle: an OCI image layout with a UKI and/or OS images")
        {
            version, uki, osImages, key, compatible, minVersion, output,
        };
        command.SetAction(r =>
        {
            var spec = new BundleSpec(r.GetValue(version)!, r.GetValue(compatible)!, r.GetValue(minVersion) ?? "0", r.GetValue(uki),
                [.. BuildCommands.Pairs("--os-image", r.GetValue(osImages))], r.GetValue(key)!);
            var report = BundleWriter.Write(spec, r.GetValue(output)!);
            Console.WriteLine($"bundle {report.Output}: version {spec.Version} for {spec.Compatible}, {report.Bytes} bytes, manifest {report.ManifestDigest}");
            foreach (var artifact in report.Artifacts)
            {
                Console.WriteLine($"  {artifact.Kind} {artifact.Name}: {artifact.Blob.Size} bytes {artifact.Blob.Digest}");
            }
            Console.WriteLine($"  signed by {PublicKeys.Fingerprint(report.PublicKey)}: [upgrade] keys = [\"{report.PublicKey}\"]");
            return 0;
        });
        return command;
    }

    public static Command Create() => new("bundle", "check signed upgrade bundles; put their OS images on a data volume")
    {
        Verify(),
        Inspect(),
        Stage(),
    };

    /// <summary>
    /// `initos bundle stage`: a bundle's OS image onto a data volume's images/ (mounted, or any
    /// directory) as the version the jail runs, through the sidecar's own reader and sink: what
    /// `upgrade apply` does on the machine, without the restart and the verdict (a machine being
    /// provisioned, or a volume prepared on the workstation). Refused as the machine would.
    /// </summary>
    private static Command Stage()
    {
        var bundle = new Argument<string>("bundle") { Description = "the bundle: a directory or FILE.tar" };
        var images = Cli.Option<string>("--images", "the data volume's images/ directory (created if missing)");
        images.Required = true;
        var config = Cli.Option<string>("--config", "the machine's initos.toml: [upgrade] keys, compatible, min_version, and [os] image (the name staged)");
        config.Required = true;
        var command = new Command("stage", "verify a bundle and put its OS image into a data volume's images/ as the good version (images/NAME@V, its proof, the pointer)")
        {
            bundle, images, config,
        };
        command.SetAction(r =>
        {
            var settings = ConfigLoader.Load(r.GetValue(config)!);
            var upgrade = settings.Upgrade;
            var name = settings.Os.Image ?? throw new ArgumentException($"{r.GetValue(config)}: no [os] image: the name an OS image is staged under");
            if (upgrade.Keys.Count == 0)
            {
                throw new ArgumentException($"{r.GetValue(config)}: no [upgrade] keys to check the bundle with");
            }
            var store = new OsImageStore(Directory.CreateDirectory(r.GetValue(images)!).FullName, name);
            var steps = new DurableSteps(_ => { });
            var sink = new OsImageSink(store, steps, line => Console.WriteLine("  " + line));
            var path = r.GetValue(bundle)!;
            VerifiedBundle verified;
            try
            {
                using var file = Directory.Exists(path) ? null : File.OpenRead(path);
                IBundleSource source = file is null ? new DirectoryBundleSource(path) : new TarBundleSource(file);
                verified = BundleReader.Read(source, new TrustPolicy(upgrade.Keys, upgrade.Compatible, upgrade.MinVersion), sink, line => Console.WriteLine("  " + line));
            }
            catch (BundleException e)
            {
                Console.Error.WriteLine($"initos: bundle {path} refused: {e.Message}; nothing of it was kept");
                return 1;
            }
            var version = JailedUpgrade.Stage(settings, store, sink, verified, steps);
            var floor = JailedUpgrade.Bless(settings, store, version, steps);
            Console.WriteLine($"staged {name}@{version} in {store.Directory} as the good version{(floor is null ? "" : $" (anti-rollback floor {floor})")}: {steps.Count} durable steps, {steps.BytesWritten} bytes written");
            return 0;
        });
        return command;
    }

    private static Command Verify()
    {
        var bundle = new Argument<string>("bundle") { Description = "the bundle: a directory or FILE.tar" };
        var config = Cli.Option<string?>("--config", "initos.toml whose [upgrade] keys, compatible and min_version decide (the machine's own config)");
        var keys = Cli.Option<string[]>("--key", "a trusted public key: an ssh-ed25519 line or a .pub file; repeatable");
        var compatible = Cli.Option<string?>("--compatible", "the machine class the bundle must be for (overrides the config's)");
        var minVersion = Cli.Option<string?>("--min-version", "the lowest version accepted (overrides the config's)");
        var command = new Command("verify", "check a bundle as a machine would: signature, keyring, machine class, version floor, every digest")
        {
            bundle, config, keys, compatible, minVersion,
        };
        command.SetAction(r =>
        {
            var upgrade = r.GetValue(config) is { } file ? ConfigLoader.Load(file).Upgrade : new UpgradeConfig();
            var trusted = upgrade.Keys.Concat((r.GetValue(keys) ?? []).Select(k => File.Exists(k) ? File.ReadAllText(k).Trim() : k)).ToList();
            if (trusted.Count == 0)
            {
                throw new ArgumentException("no trusted key: give --config with [upgrade] keys, or --key");
            }
            var policy = new TrustPolicy(trusted, r.GetValue(compatible) ?? upgrade.Compatible, r.GetValue(minVersion) ?? upgrade.MinVersion);
            return Read(r.GetValue(bundle)!, policy, "good");
        });
        return command;
    }

    private static Command Inspect()
    {
        var bundle = new Argument<string>("bundle") { Description = "the bundle: a directory or FILE.tar" };
        var command = new Command("inspect", "show a bundle's version, machine class, signer and artifacts (checked for damage, not against a keyring)")
        {
            bundle,
        };
        command.SetAction(r => Read(r.GetValue(bundle)!, new TrustPolicy([], null, null) { AnySigner = true }, "intact (signer not checked against a keyring)"));
        return command;
    }

    private static int Read(string path, TrustPolicy policy, string verdict)
    {
        VerifiedBundle result;
        try
        {
            using var file = Directory.Exists(path) ? null : File.OpenRead(path);
            IBundleSource source = file is null ? new DirectoryBundleSource(path) : new TarBundleSource(file);
            result = BundleReader.Read(source, policy, new DiscardingSink(), line => Console.WriteLine("  " + line));
        }
        catch (BundleException e)
        {
            Console.Error.WriteLine($"initos: bundle {path} refused: {e.Message}");
            return 1;
        }
        var d = result.Description;
        Console.WriteLine($"bundle {path}: {verdict}: version {d.Version} for {d.Compatible}, anti-rollback floor {d.MinVersion}, manifest {result.ManifestDigest}");
        Console.WriteLine($"  signer {result.Key}");
        foreach (var artifact in result.Artifacts)
        {
            Console.WriteLine($"  {artifact.Kind} {artifact.Name}: {artifact.Blob.Size} bytes {artifact.Blob.Digest}");
        }
        return 0;
    }

    /// <summary>Verification only: the bytes are hashed and dropped.</summary>
    private sealed class DiscardingSink : IArtifactSink
    {
        public Stream Begin(BundleArtifact artifact) => Stream.Null;

        public void Commit(BundleArtifact artifact)
        {
        }

        public void Abort()
        {
        }
    }
}
