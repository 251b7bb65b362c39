using InitOs.Init.Boot;
using InitOs.Init.Config;
using InitOs.Init.Trust;

namespace InitOs.Os;

/// <summary>
/// Mode vm never executes from the data volume (a USB stick labelled like it could stand in):
/// the kit files that run as host root or as the guest's firmware are copied to /run,
/// each checked while it is copied against the digests in the signed initramfs, and QEMU
/// runs from that copy. A kit file that is missing or differs stops the boot by name.
/// </summary>
public static class VmKitCopy
{
    public const string RunDirectory = "/run/initos/vm-kit";

    public sealed record Result(int Files, long Bytes);

    public static Result Make(string kit, string digestFile, string target)
    {
        if (!File.Exists(digestFile))
        {
            throw new BootException($"mode vm runs QEMU only from a kit whose digests the signed initramfs holds ({digestFile}), and this initramfs has none: build it where QEMU is installed (`initos build initramfs --vm-kit-qemu PATH`)");
        }
        DigestList digests;
        try
        {
            digests = DigestList.Parse(File.ReadAllText(digestFile), digestFile);
        }
        catch (InvalidDataException e)
        {
            throw new BootException(e.Message);
        }
        try
        {
            return new Result(digests.Entries.Count, digests.CopyVerified(kit, target, VmKitLayout.IsExecutable));
        }
        catch (UntrustedFileException e)
        {
            if (Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
            }
            throw new BootException($"the VM kit: {e.Message}");
        }
    }
}
