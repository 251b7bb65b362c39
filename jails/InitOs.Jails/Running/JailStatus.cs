namespace InitOs.Jails.Running;

/// <summary>The OCI runtime's statuses, and deleted: the record is gone.</summary>
public enum JailStatus
{
    Creating,
    Created,
    Running,
    Stopped,
    Deleted,
}

/// <summary>What can be done to a jail; each has the statuses it may start from.</summary>
public enum JailVerb
{
    Start,
    Kill,
    Exec,
    Delete,
    ForceDelete,
}

/// <summary>
/// The lifecycle as data: create → created → running → stopped → deleted. A verb asked of a jail
/// in a status it does not start from is refused, and the refusal says what the status is and
/// what the verb needs.
/// </summary>
public static class JailLifecycle
{
    private static readonly Dictionary<JailVerb, JailStatus[]> From = new()
    {
        [JailVerb.Start] = [JailStatus.Created],
        [JailVerb.Kill] = [JailStatus.Created, JailStatus.Running],
        [JailVerb.Exec] = [JailStatus.Running],
        [JailVerb.Delete] = [JailStatus.Created, JailStatus.Stopped],
        [JailVerb.ForceDelete] = [JailStatus.Creating, JailStatus.Created, JailStatus.Running, JailStatus.Stopped],
    };

    /// <summary>The status a successful verb leaves (kill and exec change nothing by themselves).</summary>
    public static JailStatus After(JailVerb verb, JailStatus current) => verb switch
    {
        JailVerb.Start => JailStatus.Running,
        JailVerb.Delete or JailVerb.ForceDelete => JailStatus.Deleted,
        _ => current,
    };

    public static bool Allows(JailVerb verb, JailStatus current) => From[verb].Contains(current);

    /// <summary>Throws, naming the jail, its status and what the verb needs, unless the verb may start from it.</summary>
    public static void Check(string id, JailVerb verb, JailStatus current)
    {
        if (Allows(verb, current))
        {
            return;
        }
        var needed = string.Join(" or ", From[verb].Select(Name));
        // A created jail's program never ran, so delete may end it (as runc does); a running one needs --force.
        var hint = verb == JailVerb.Delete && current is JailStatus.Running ? "; stop it first or use --force" : "";
        throw new JailException($"jail {id} is {Name(current)}: {Name(verb)} needs it {needed}{hint}");
    }

    /// <summary>The OCI state's word for a status ("created").</summary>
    public static string Name(JailStatus status) => status.ToString().ToLowerInvariant();

    public static string Name(JailVerb verb) => verb == JailVerb.ForceDelete ? "delete --force" : verb.ToString().ToLowerInvariant();

    public static JailStatus Parse(string text) => Enum.TryParse<JailStatus>(text, ignoreCase: true, out var status) && Name(status) == text
        ? status
        : throw new JailException($"unknown jail status \"{text}\"");
}
