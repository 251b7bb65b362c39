using System.Text.Json;

namespace InitOs.Jails.Oci;

/// <summary>Reads one element of a JSON array; <paramref name="field"/> is its path, "mounts[2]".</summary>
internal delegate T ElementReader<T>(ref JsonCursor cursor, string field);

/// <summary>
/// A strict pull reader for config.json over Utf8JsonReader: the caller walks the members it
/// knows, and every unknown member or value of the wrong type becomes a problem naming its
/// line and JSON path, all of them in one pass. No serializer metadata and no reflection:
/// this is on every jail's start, where the serializer's first use cost milliseconds.
/// Each value reader is called with the reader on the value's first token and leaves it on
/// the value's last token.
/// </summary>
internal ref struct JsonCursor
{
    private readonly byte[] _json;
    private Utf8JsonReader _reader;
    private readonly List<string> _problems;

    public JsonCursor(byte[] json, List<string> problems)
    {
        _json = json;
        _reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        _problems = problems;
    }

    /// <summary>Moves to the document's first token; false for an empty document.</summary>
    public bool Start() => _reader.Read();

    /// <summary>After the top-level value: true when nothing but whitespace follows.</summary>
    public bool AtEnd() => !_reader.Read();

    public readonly int Line => LineOf(_reader.TokenStartIndex);

    public void Problem(string field, string message) => _problems.Add($"{Line}: {field}: {message}");

    /// <summary>True on an object (walk it with <see cref="Member"/>); false on null or, with a problem, anything else.</summary>
    public bool Object(string field) => Expect(field, JsonTokenType.StartObject, "an object");

    /// <summary>The next member of the object being walked; false at its end.</summary>
    public bool Member(string path, out string name, out string field)
    {
        _reader.Read();
        if (_reader.TokenType == JsonTokenType.EndObject)
        {
            name = field = "";
            return false;
        }
        name = _reader.GetString()!;
        field = path.Length == 0 ? name : $"{path}.{name}";
        _reader.Read();
        return true;
    }

    /// <summary>A member InitOS does not know: a problem, and the value is skipped.</summary>
    public void Unknown(string field)
    {
        Problem(field, "not supported by InitOS");
        _reader.Skip();
    }

    public string? String(string field) =>
        _reader.TokenType == JsonTokenType.String ? _reader.GetString() : Wrong<string>(field, "a string");

    public bool Bool(string field) => _reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False or JsonTokenType.Null => false,
        _ => Wrong<bool>(field, "true or false"),
    };

    public long? Int64(string field) =>
        _reader.TokenType == JsonTokenType.Number && _reader.TryGetInt64(out var value) ? value : Wrong<long?>(field, "an integer");

    public ulong? UInt64(string field) =>
        _reader.TokenType == JsonTokenType.Number && _reader.TryGetUInt64(out var value) ? value : Wrong<ulong?>(field, "an integer from 0");

    public uint? UInt32(string field) =>
        _reader.TokenType == JsonTokenType.Number && _reader.TryGetUInt32(out var value) ? value : Wrong<uint?>(field, "an integer from 0 to 4294967295");

    public List<T>? Array<T>(string field, ElementReader<T> element)
    {
        if (!Expect(field, JsonTokenType.StartArray, "an array"))
        {
            return null;
        }
        var items = new List<T>();
        while (_reader.Read() && _reader.TokenType != JsonTokenType.EndArray)
        {
            items.Add(element(ref this, $"{field}[{items.Count}]"));
        }
        return items;
    }

    /// <summary>Array elements: here null is a wrong value too.</summary>
    public static string StringElement(ref JsonCursor cursor, string field) =>
        cursor._reader.TokenType == JsonTokenType.String ? cursor._reader.GetString()! : cursor.Wrong<string>(field, "a string", nullIsWrong: true) ?? "";

    public static uint UInt32Element(ref JsonCursor cursor, string field) =>
        cursor._reader.TokenType == JsonTokenType.Number && cursor._reader.TryGetUInt32(out var value) ? value : cursor.Wrong<uint>(field, "an integer from 0 to 4294967295", nullIsWrong: true);

    /// <summary>An object of string values ("sysctl", "annotations").</summary>
    public Dictionary<string, string>? StringMap(string field)
    {
        if (!Object(field))
        {
            return null;
        }
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (Member(field, out var name, out var member))
        {
            map[name] = String(member) ?? "";
        }
        return map;
    }

    private bool Expect(string field, JsonTokenType start, string what)
    {
        if (_reader.TokenType == start)
        {
            return true;
        }
        if (_reader.TokenType != JsonTokenType.Null)
        {
            Wrong<bool>(field, what);
        }
        return false;
    }

    /// <summary>A value of the wrong kind (null is "not given", not wrong): a problem, then skipped.</summary>
    private T? Wrong<T>(string field, string expected, bool nullIsWrong = false)
    {
        if (nullIsWrong || _reader.TokenType != JsonTokenType.Null)
        {
            Problem(field, $"wrong type of value: expected {expected}");
            _reader.Skip();
        }
        return default;
    }

    private readonly int LineOf(long offset)
    {
        int line = 1;
        for (long i = 0; i < offset && i < _json.Length; i++)
        {
            if (_json[i] == (byte)'\n')
            {
                line++;
            }
        }
        return line;
    }
}
