using InitOs.ImageBuild.Tools;

namespace InitOs.TestKit;

/// <summary>Runs a command-line tool in a test and returns its stdout; a failure carries stderr.</summary>
public static class Tool
{
    public static string Run(string file, params string[] args) => ExternalTool.Run(file, args);
}
