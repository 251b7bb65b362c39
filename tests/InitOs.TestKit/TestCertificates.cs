namespace InitOs.TestKit;

/// <summary>A test CA and server certificates signed by it, by openssl (P-256, two days).</summary>
public sealed class TestCertificates
{
    private readonly string _directory;

    /// <summary>A new CA in <paramref name="directory"/>: ca.pem and ca.key.</summary>
    public TestCertificates(string directory)
    {
        _directory = directory;
        Tool.Run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", File("ca.key"), "-out", Ca, "-days", "2", "-subj", "/CN=initos-test-ca");
    }

    public string Ca => File("ca.pem");

    /// <summary>A server certificate for these IP addresses (its subjectAltName), and its key: NAME.pem, NAME.key.</summary>
    public (string Certificate, string Key) Server(string name, params string[] addresses)
    {
        Tool.Run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", File(name + ".key"), "-out", File(name + ".csr"), "-subj", $"/CN={addresses[0]}");
        System.IO.File.WriteAllText(File(name + ".ext"), "subjectAltName=" + string.Join(',', addresses.Select(a => "IP:" + a)) + "\n");
        Tool.Run("openssl", "x509", "-req", "-in", File(name + ".csr"), "-CA", Ca, "-CAkey", File("ca.key"), "-CAcreateserial", "-out", File(name + ".pem"), "-days", "2", "-extfile", File(name + ".ext"));
        return (File(name + ".pem"), File(name + ".key"));
    }

    /// <summary>The SHA-256 (hex) of a certificate's DER bytes: what a pin names.</summary>
    public static string Pin(string certificate) => Tool.Run("sh", "-c", $"openssl x509 -in {certificate} -outform DER | sha256sum").Split(' ')[0];

    private string File(string name) => Path.Combine(_directory, name);
}
