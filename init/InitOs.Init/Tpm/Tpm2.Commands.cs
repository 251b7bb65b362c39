using InitOs.Sys;
using static InitOs.Init.Tpm.TpmConstants;

namespace InitOs.Init.Tpm;

public sealed partial class Tpm2
{
    /// <summary>How a command's one authorized handle is authorized: the empty password, or a session with these attributes.</summary>
    private sealed record Auth(TpmSession? Using, byte Attributes)
    {
        public static readonly Auth Password = new(null, ContinueSession);

        public static Auth Session(TpmSession session, byte attributes) => new(session, attributes);
    }

    private sealed record Response(uint[] Handles, byte[] Parameters);

    /// <summary>
    /// A command with an authorization area (Part 1, 18.7 and 19.6): with a session, the first
    /// parameter is encrypted if asked (decrypt), the command HMAC covers cpHash and both nonces,
    /// the response HMAC is checked over rpHash, and the first response parameter decrypted (encrypt).
    /// </summary>
    private Response Run(string name, uint code, (uint Handle, byte[] Name)[] handles, Auth auth, byte[] parameters, int responseHandles)
    {
        var session = auth.Using;
        byte[] nonceCaller = session is null ? [] : Kernel.RandomBytes(32);
        if (session is not null && (auth.Attributes & Decrypt) != 0)
        {
            parameters = CryptFirstParameter(parameters, session.CfbKey(nonceCaller, session.NonceTpm), decrypt: false);
        }
        byte[] hmac = session is null ? [] : TpmHmac.Sha256(session.HmacKey, CpHash(code, handles, parameters), nonceCaller, session.NonceTpm, [auth.Attributes]);
        var authArea = new TpmWriter().U32(session?.Handle ?? RsPassword).Sized(nonceCaller).U8(auth.Attributes).Sized(hmac).ToArray();
        var command = new TpmWriter().U16(TagSessions).U32(0).U32(code);
        foreach (var (handle, _) in handles)
        {
            command.U32(handle);
        }
        command.U32((uint)authArea.Length).Raw(authArea).Raw(parameters);

        var reader = Exchange(name, command.ToArray());
        var outHandles = new uint[responseHandles];
        for (int i = 0; i < responseHandles; i++)
        {
            outHandles[i] = reader.U32();
        }
        var outParameters = reader.Take((int)reader.U32()).ToArray();
        var nonceTpm = reader.Sized();
        byte attributes = reader.U8();
        var responseHmac = reader.Sized();
        if (session is not null)
        {
            session.NonceTpm = nonceTpm;
            CheckResponseHmac(name, code, session, outParameters, nonceCaller, attributes, responseHmac);
            if ((auth.Attributes & Encrypt) != 0)
            {
                outParameters = CryptFirstParameter(outParameters, session.CfbKey(nonceTpm, nonceCaller), decrypt: true);
            }
        }
        return new Response(outHandles, outParameters);
    }

    private static byte[] CpHash(uint code, (uint Handle, byte[] Name)[] handles, byte[] parameters)
    {
        var hash = new Sha256();
        hash.Append(new TpmWriter().U32(code).ToArray());
        foreach (var (_, name) in handles)
        {
            hash.Append(name);
        }
        hash.Append(parameters);
        return hash.Finish();
    }

    /// <summary>A response that does not carry the HMAC only the TPM (holding the session key) can make was changed or forged.</summary>
    private void CheckResponseHmac(string name, uint code, TpmSession session, byte[] parameters, byte[] nonceCaller, byte attributes, byte[] hmac)
    {
        var rpHash = Sha256.Hash([.. new TpmWriter().U32(0).U32(code).ToArray(), .. parameters]);
        var expected = TpmHmac.Sha256(session.HmacKey, rpHash, session.NonceTpm, nonceCaller, [attributes]);
        if (!SameBytes(expected, hmac))
        {
            throw new TpmException($"{Name}: the answer to TPM2_{name} does not carry the session's HMAC: it did not come from the TPM unchanged");
        }
    }

    private static bool SameBytes(byte[] a, byte[] b)
    {
        int difference = a.Length ^ b.Length;
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            difference |= a[i] ^ b[i];
        }
        return difference == 0;
    }

    /// <summary>Parameter encryption covers the bytes of the first parameter, a TPM2B, not its size.</summary>
    private static byte[] CryptFirstParameter(byte[] parameters, (byte[] Key, byte[] Iv) cfb, bool decrypt)
    {
        var reader = new TpmReader(parameters);
        int size = reader.U16();
        var data = reader.Take(size);
        var crypted = decrypt ? Aes128Cfb.Decrypt(cfb.Key, cfb.Iv, data) : Aes128Cfb.Encrypt(cfb.Key, cfb.Iv, data);
        var result = (byte[])parameters.Clone();
        crypted.CopyTo(result, 2);
        return result;
    }

    /// <summary>Sends a whole command (its size filled in here) and returns a reader past the response header; a failure code throws.</summary>
    private TpmReader Exchange(string name, byte[] command)
    {
        uint size = (uint)command.Length;
        command[2] = (byte)(size >> 24);
        command[3] = (byte)(size >> 16);
        command[4] = (byte)(size >> 8);
        command[5] = (byte)size;
        for (int attempt = 0; ; attempt++)
        {
            var response = transport.Execute(command);
            var reader = new TpmReader(response);
            reader.U16();
            uint length = reader.U32();
            uint code = reader.U32();
            if (length != response.Length)
            {
                throw new TpmException($"{Name}: the answer to TPM2_{name} says {length} bytes and has {response.Length}");
            }
            // RETRY, YIELDED, TESTING: the TPM asks to be asked again.
            if (code is 0x922 or 0x908 or 0x90A && attempt < 50)
            {
                Thread.Sleep(20);
                continue;
            }
            if (code != 0)
            {
                throw new TpmException(name, code);
            }
            return reader;
        }
    }
}
