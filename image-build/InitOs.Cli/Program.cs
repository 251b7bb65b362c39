using System.CommandLine;
using InitOs.Cli;

// The workstation `initos`: builds images and boots them. Each command lives in its own file.
// Bundles are hashed by OpenSSL here (the sidecar, without it, by the kernel).
InitOs.Sys.Digests.Provider = () => new OpenSslDigest();
var root = new RootCommand("initos — build and boot InitOS images (workstation tool)")
{
    BuildCommands.Create(),
    RunCommand.Create(),
    BundleCommands.Create(),
    RegistryCommands.Push(),
    RegistryCommands.Pull(),
    KeysCommand.Create(),
    KeysCommand.Sign(),
    SshCommands.Ssh(),
    SshCommands.FleetCommand(),
};
return Cli.Invoke(root, args);
