using System.CommandLine;
using InitOs.Efi.Signing;

namespace InitOs.Cli;

/// <summary>`initos keys generate|snakeoil` and `initos sign`.</summary>
internal static class KeysCommand
{
    public static Command Create()
    {
        var generateOutput = Cli.Option<string>("--output", "the new key set's directory (made 0700; must be empty)", () => Cli.KeySetDirectory("initos"));
        var name = Cli.Option<string>("--name", "the certificates' common name prefix", () => "InitOS");
        var generate = new Command("generate", "make PK, KEK and db (X.509 + keys), their EFI signature lists and signed .auth updates") { generateOutput, name };
        generate.SetAction(r =>
        {
            var set = KeyGenerator.Generate(r.GetValue(generateOutput)!, r.GetValue(name)!);
            Console.WriteLine($"keys {set.Directory}: PK, KEK, db (.crt .key .esl .auth); owner {File.ReadAllText(set.OwnerGuidFile).Trim()}");
            return 0;
        });
        var snakeoilOutput = Cli.Option<string>("--output", "where to put the key set", () => Cli.KeySetDirectory("snakeoil"));
        var snakeoil = new Command("snakeoil", "a key set from Debian's OVMF test key (its db in OVMF_VARS_4M.snakeoil.fd): for tests and demos, never for machines") { snakeoilOutput };
        snakeoil.SetAction(r =>
        {
            var set = KeySet.Snakeoil(r.GetValue(snakeoilOutput)!);
            Console.WriteLine($"keys {set.Directory}: Debian's OVMF test key as db");
            return 0;
        });
        return new Command("keys", "Secure Boot keys") { generate, snakeoil };
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
