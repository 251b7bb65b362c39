using System.Net.Sockets;
using InitOs.Init.Tpm;

namespace InitOs.ImageBuild.Tpm;

/// <summary>A TPM simulator's data socket (swtpm --server type=unixio): raw TPM 2.0 commands, one response each.</summary>
public sealed class TpmSocket : ITpmTransport
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

    public TpmSocket(string path)
    {
        Name = path;
        _socket.Connect(new UnixDomainSocketEndPoint(path));
    }

    public string Name { get; }

    public byte[] Execute(byte[] command)
    {
        _socket.Send(command);
        var header = Receive(10);
        int length = (header[2] << 24) | (header[3] << 16) | (header[4] << 8) | header[5];
        if (length < 10 || length > 1 << 16)
        {
            throw new TpmException($"{Name}: a response of {length} bytes");
        }
        return [.. header, .. Receive(length - 10)];
    }

    private byte[] Receive(int count)
    {
        var buffer = new byte[count];
        for (int done = 0; done < count;)
        {
            int n = _socket.Receive(buffer, done, count - done, SocketFlags.None);
            if (n == 0)
            {
                throw new TpmException($"{Name}: the TPM closed the connection");
            }
            done += n;
        }
        return buffer;
    }

    public void Dispose() => _socket.Dispose();
}
