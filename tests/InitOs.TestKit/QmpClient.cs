using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace InitOs.TestKit;

/// <summary>
/// A test's line to QEMU's monitor protocol (-qmp unix:PATH,server=on,wait=off): commands one
/// at a time, each answer read past the events QEMU sends meanwhile.
/// </summary>
public sealed class QmpClient : IDisposable
{
    private readonly Socket _socket;
    private readonly StreamReader _reader;
    private readonly NetworkStream _stream;

    private QmpClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket);
        _reader = new StreamReader(_stream, Encoding.UTF8);
        _ = _reader.ReadLine(); // the greeting
        Execute("qmp_capabilities");
    }

    /// <summary>Connects once QEMU has made the socket (it does so before the guest runs).</summary>
    public static QmpClient Connect(string path, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(path));
                return new QmpClient(socket);
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                socket.Dispose();
                Thread.Sleep(100);
            }
        }
    }

    /// <summary>Runs <paramref name="command"/>; its "return" value, or an exception with QEMU's error.</summary>
    public JsonNode? Execute(string command, JsonObject? arguments = null)
    {
        var request = new JsonObject { ["execute"] = command };
        if (arguments is not null)
        {
            request["arguments"] = arguments;
        }
        var bytes = Encoding.UTF8.GetBytes(request.ToJsonString() + "\n");
        _stream.Write(bytes);
        while (true)
        {
            var line = _reader.ReadLine() ?? throw new IOException($"QMP closed while waiting for {command}");
            var answer = JsonNode.Parse(line)!.AsObject();
            if (answer.ContainsKey("event"))
            {
                continue;
            }
            if (answer["error"] is { } error)
            {
                throw new InvalidOperationException($"QMP {command}: {error.ToJsonString()}");
            }
            return answer["return"];
        }
    }

    /// <summary>
    /// Presses and releases each key (QEMU's qcode names: "u", "spc", "minus", "ret") at the display
    /// <paramref name="display"/>: the input device bound to it (-device usb-kbd,display=ID) gets them.
    /// </summary>
    public void Type(string display, params string[] keys)
    {
        foreach (var key in keys)
        {
            Press(display, [key]);
        }
    }

    /// <summary>Types <paramref name="text"/> on a US keyboard at <paramref name="display"/>, shift included (letters, digits, space, newline, -=/.$()*|&gt;).</summary>
    public void TypeText(string display, string text)
    {
        foreach (var c in text)
        {
            var (key, shift) = KeyOf(c);
            Press(display, shift ? ["shift", key] : [key]);
        }
    }

    private static (string Key, bool Shift) KeyOf(char c) => c switch
    {
        >= 'a' and <= 'z' or >= '0' and <= '9' => (c.ToString(), false),
        >= 'A' and <= 'Z' => (char.ToLowerInvariant(c).ToString(), true),
        ' ' => ("spc", false),
        '\n' => ("ret", false),
        '-' => ("minus", false),
        '=' => ("equal", false),
        '/' => ("slash", false),
        '.' => ("dot", false),
        '$' => ("4", true),
        '(' => ("9", true),
        ')' => ("0", true),
        '*' => ("8", true),
        '|' => ("backslash", true),
        '>' => ("dot", true),
        _ => throw new ArgumentException($"no key for '{c}' in this test keyboard"),
    };

    /// <summary>
    /// The pause after each key: QEMU's USB keyboard holds at most 16 events until the guest's
    /// driver polls it, and under TCG a burst overflows that queue and loses keys (shift among
    /// them). Twenty keys a second is a fast typist.
    /// </summary>
    private static readonly TimeSpan KeyInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Holds the keys down in order, then lets them go in reverse (a chord such as shift-4).</summary>
    private void Press(string display, string[] keys)
    {
        foreach (var (key, down) in keys.Select(k => (k, true)).Concat(keys.Reverse().Select(k => (k, false))))
        {
            Execute("input-send-event", new JsonObject
            {
                ["device"] = display,
                ["events"] = new JsonArray(new JsonObject
                {
                    ["type"] = "key",
                    ["data"] = new JsonObject { ["down"] = down, ["key"] = new JsonObject { ["type"] = "qcode", ["data"] = key } },
                }),
            });
        }
        Thread.Sleep(KeyInterval);
    }

    public void Dispose()
    {
        _reader.Dispose();
        _stream.Dispose();
        _socket.Dispose();
    }
}
