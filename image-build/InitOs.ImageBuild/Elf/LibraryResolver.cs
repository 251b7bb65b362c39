namespace InitOs.ImageBuild.Elf;

/// <summary>A library the executable needs: its soname and the real file (symlinks resolved).</summary>
public sealed record SharedLibrary(string Name, string SourcePath);

/// <summary>The transitive DT_NEEDED closure of an executable, plus its interpreter.</summary>
public static class LibraryResolver
{
    public static readonly IReadOnlyList<string> DefaultSearchDirectories =
        ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"];

    public static IReadOnlyList<SharedLibrary> Resolve(string executable, IReadOnlyList<string>? searchDirs = null)
    {
        var dirs = searchDirs ?? DefaultSearchDirectories;
        var result = new List<SharedLibrary>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var root = ElfReader.Read(executable);
        if (root.Interpreter is not null)
        {
            seen.Add(Path.GetFileName(root.Interpreter));
            result.Add(new SharedLibrary(Path.GetFileName(root.Interpreter), RealPath(root.Interpreter)));
        }
        var queue = new Queue<string>(root.Needed);
        while (queue.Count > 0)
        {
            var name = queue.Dequeue();
            if (!seen.Add(name))
            {
                continue;
            }
            var found = dirs.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists)
                ?? throw new FileNotFoundException($"{executable} needs {name}, which is in none of {string.Join(", ", dirs)}");
            var real = RealPath(found);
            result.Add(new SharedLibrary(name, real));
            foreach (var next in ElfReader.Read(real).Needed)
            {
                queue.Enqueue(next);
            }
        }
        return result;
    }

    private static string RealPath(string path)
    {
        var info = new FileInfo(path);
        return info.LinkTarget is null ? info.FullName : info.ResolveLinkTarget(true)?.FullName ?? info.FullName;
    }
}
