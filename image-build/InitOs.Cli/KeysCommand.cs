using System.CommandLine;
using InitOs.Efi.Signing;
using InitOs.ImageBuild.Tools;

namespace InitOs.Cli;

/// <summary>`initos keys generate|snakeoil` and `initos sign`.</summary>
internal static class KeysCommand
{
    /// <summary>Debian's OVMF test key: OVMF_VARS_4M.snakeoil.fd has it in db. For tests and the demo only.</summary>
    public const string SnakeoilKey = "/usr/share/ovmf/PkKek-1-snakeoil.key", SnakeoilCertificate = "/usr/share/ovmf/PkKek-1-snakeoil.pem";

    public static Command Create()
    {
        var generateOutput = Cli.Option<string>("--output", "the new key set's directory (made 0700; must be empty)", () => "out/keys/initos");
        var name = Cli.Option<string>("--name", "the certificates' common name prefix", () => "InitOS");
        var generate = new Command("generate", "make PK, KEK and db (X.509 + keys), their EFI signature lists and signed .auth updates") { generateOutput, name };
        generate.SetAction(r =>
        {
            var set = KeyGenerator.Generate(r.GetValue(generateOutput)!, r.GetValue(name)!);
            Console.WriteLine($"keys {set.Directory}: PK, KEK, db (.crt .key .esl .auth); owner {File.ReadAllText(set.OwnerGuidFile).Trim()}");
            return 0;
        });
        var snakeoilOutput = Cli.Option<string>("--output", "where to put the key set", () => "out/keys/snakeoil");
        var snakeoil = new Command("snakeoil", "a key set from Debian's OVMF test key (its db in OVMF_VARS_4M.snakeoil.fd): for tests and demos, never for machines") { snakeoilOutput };
        snakeoil.SetAction(r =>
        {
            var set = Snakeoil(r.GetValue(snakeoilOutput)!);
            Console.WriteLine($"keys {set.Directory}: Debian's OVMF test key as db");
            return 0;
        });
        return new Command("keys", "Secure Boot keys") { generate, snakeoil };
    }

    /// <summary>The test key decrypted (pass phrase "snakeoil") into a 0700 directory as db.key (0600), with its certificate.</summary>
    public static KeySet Snakeoil(string directory)
    {
        var set = new KeySet(Path.GetFullPath(directory));
        if (File.Exists(set.SigningKey) && File.Exists(set.SigningCertificate))
        {
            return set;
        }
        Directory.CreateDirectory(set.Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(set.Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        ExternalTool.Run("openssl", ["rsa", "-in", SnakeoilKey, "-passin", "pass:snakeoil", "-out", set.SigningKey]);
        File.SetUnixFileMode(set.SigningKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Copy(SnakeoilCertificate, set.SigningCertificate, overwrite: true);
        return set;
    }

    public static Command Sign()
    {
        var keys = Cli.Option<string>("--keys", "the key set whose db key signs");
        keys.Required = true;
        var output = Cli.Option<string?>("--output", "the signed file (default: replace the input)");
        var input = new Argument<string>("IMAGE") { Description = "a PE image (UKI, systemd-boot)" };
        var command = new Command("sign", "sign a PE image with Authenticode (sbsign), checked with sbverify") { keys, output, input };
        command.SetAction(r =>
        {
            var path = r.GetValue(input)!;
            var target = r.GetValue(output) ?? path;
            PeSigner.Sign(KeySet.Open(r.GetValue(keys)!), path, target);
            Console.WriteLine($"signed {target}");
            return 0;
        });
        return command;
    }
}
