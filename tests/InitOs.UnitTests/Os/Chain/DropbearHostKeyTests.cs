using InitOs.Init.Trust;
using InitOs.Os.Chain;
using InitOs.TestKit;

namespace InitOs.UnitTests.Os.Chain;

public sealed class DropbearHostKeyTests
{
    [Fact]
    public void Dropbear_reads_the_host_key_and_derives_the_same_public_key()
    {
        using var dir = new TempDirectory("initos-hostkey-");
        var file = Path.Combine(dir.Path, "host_ed25519");
        var key = DropbearHostKey.Create();
        File.WriteAllBytes(file, key);
        var shown = Tool.Run("dropbearkey", "-y", "-f", file);
        var line = shown.Split('\n').Single(l => l.StartsWith("ssh-ed25519 ", StringComparison.Ordinal));
        var blob = Convert.FromBase64String(line.Split(' ')[1]);
        // The wire blob: string "ssh-ed25519", string public key (32 bytes) at the end.
        Assert.Equal(key[^32..], blob[^32..]);
        Assert.Equal(Ed25519.PublicKey(key.AsSpan(19, 32)), blob[^32..]);
    }
}
