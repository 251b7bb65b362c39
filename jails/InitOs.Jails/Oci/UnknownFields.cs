using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace InitOs.Jails.Oci;

/// <summary>
/// Finds every member of config.json that the model does not declare, with its JSON path and
/// line, by walking the document beside the source-generated type metadata. Done before
/// deserializing so all of them are reported at once, in words that do not depend on the
/// runtime's (resource-stripped, in the NativeAOT build) exception messages.
/// </summary>
internal static class UnknownFields
{
    public static List<string> Find(byte[] json)
    {
        var problems = new List<string>();
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        if (reader.Read())
        {
            Walk(ref reader, json, OciJson.Default.OciSpec, "", problems);
        }
        return problems;
    }

    private static void Walk(ref Utf8JsonReader reader, byte[] json, JsonTypeInfo info, string path, List<string> problems)
    {
        if (info.Kind == JsonTypeInfoKind.Object && reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString()!;
                int line = LineOf(json, reader.TokenStartIndex);
                var property = info.Properties.FirstOrDefault(p => p.Name == name);
                var field = path.Length == 0 ? name : $"{path}.{name}";
                reader.Read();
                if (property is null)
                {
                    problems.Add($"{line}: {field}: not supported by InitOS");
                    reader.Skip();
                    continue;
                }
                Walk(ref reader, json, OciJson.Default.GetTypeInfo(property.PropertyType)!, field, problems);
            }
        }
        else if (info.Kind == JsonTypeInfoKind.Enumerable && reader.TokenType == JsonTokenType.StartArray && info.ElementType is { } element)
        {
            int index = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                Walk(ref reader, json, OciJson.Default.GetTypeInfo(element)!, $"{path}[{index++}]", problems);
            }
        }
        else
        {
            // Scalars, dictionaries of strings, and wrong kinds of value: the deserializer judges those.
            reader.Skip();
        }
    }

    private static int LineOf(byte[] json, long offset)
    {
        int line = 1;
        for (long i = 0; i < offset && i < json.Length; i++)
        {
            if (json[i] == (byte)'\n')
            {
                line++;
            }
        }
        return line;
    }
}
