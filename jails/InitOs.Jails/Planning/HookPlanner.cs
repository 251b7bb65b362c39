using InitOs.Jails.Oci;

namespace InitOs.Jails.Planning;

/// <summary>The points of a jail's life where hooks run, on the host, as the runtime's caller.</summary>
public enum HookStage { Prestart, CreateRuntime, Poststart, Poststop }

/// <summary>One hook: the program, its argv (argv[0] included), its environment (null: the runtime's), and its time limit.</summary>
public sealed record HookPlan(HookStage Stage, string Path, IReadOnlyList<string> Args, IReadOnlyList<string>? Env, TimeSpan? Timeout);

/// <summary>
/// hooks → what the runtime runs. Hooks run as host root in the host's namespaces, so they come
/// only from a bundle the caller of `initos jail` chose (never from a jail InitOS starts from
/// the data volume); createContainer and startContainer, which run inside the jail's namespaces,
/// are not supported.
/// </summary>
public static class HookPlanner
{
    public static List<HookPlan> Plan(OciHooks? hooks, bool allowed, Action<string, string> problem)
    {
        var result = new List<HookPlan>();
        if (hooks is null)
        {
            return result;
        }
        if (!allowed)
        {
            problem("hooks", "run as host root, so only a bundle given to `initos jail` may have them");
            return result;
        }
        if (hooks.CreateContainer is { Count: > 0 })
        {
            problem("hooks.createContainer", "not supported by InitOS (a hook inside the jail's namespaces)");
        }
        if (hooks.StartContainer is { Count: > 0 })
        {
            problem("hooks.startContainer", "not supported by InitOS (a hook inside the jail's namespaces)");
        }
        Add(result, HookStage.Prestart, "hooks.prestart", hooks.Prestart, problem);
        Add(result, HookStage.CreateRuntime, "hooks.createRuntime", hooks.CreateRuntime, problem);
        Add(result, HookStage.Poststart, "hooks.poststart", hooks.Poststart, problem);
        Add(result, HookStage.Poststop, "hooks.poststop", hooks.Poststop, problem);
        return result;
    }

    private static void Add(List<HookPlan> result, HookStage stage, string field, IReadOnlyList<OciHook>? hooks, Action<string, string> problem)
    {
        foreach (var (hook, i) in (hooks ?? []).Select((h, i) => (h, i)))
        {
            if (hook.Path is not { } path || !path.StartsWith('/'))
            {
                problem($"{field}[{i}].path", $"\"{hook.Path}\" must be an absolute path");
                continue;
            }
            if (hook.Timeout == 0)
            {
                problem($"{field}[{i}].timeout", "must be above 0 seconds");
                continue;
            }
            var args = hook.Args is { Count: > 0 } given ? given : [path];
            result.Add(new HookPlan(stage, path, args, hook.Env, hook.Timeout is { } t ? TimeSpan.FromSeconds(t) : null));
        }
    }
}
