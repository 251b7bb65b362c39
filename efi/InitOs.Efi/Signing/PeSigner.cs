using InitOs.Tools;

namespace InitOs.Efi.Signing;

/// <summary>
/// Authenticode signing of a PE image with Debian's sbsign, checked with sbverify before the
/// signed file replaces anything. The output is written beside and renamed into place.
/// </summary>
public static class PeSigner
{
    public static void Sign(KeySet keys, string input, string output)
    {
        if (!File.Exists(input))
        {
            throw new KeyException($"{input} does not exist");
        }
        var temporary = output + ".signing";
        try
        {
            ExternalTool.Run("sbsign", ["--key", keys.SigningKey, "--cert", keys.SigningCertificate, "--output", temporary, input]);
            Verify(keys.SigningCertificate, temporary);
            File.Move(temporary, output, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>sbverify against one certificate; throws with its words when the signature does not hold.</summary>
    public static void Verify(string certificate, string image)
    {
        try
        {
            ExternalTool.Run("sbverify", ["--cert", certificate, image]);
        }
        catch (InvalidOperationException e)
        {
            throw new KeyException($"{image} is not signed by {certificate}: {e.Message}");
        }
    }
}
