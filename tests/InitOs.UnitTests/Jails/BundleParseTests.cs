using InitOs.Jails.Oci;

namespace InitOs.UnitTests.Jails;

public sealed class BundleParseTests
{
    private const string Minimal = """
        {
          "ociVersion": "1.0.2",
          "root": { "path": "rootfs", "readonly": true },
          "process": { "args": ["/bin/true"], "cwd": "/", "user": { "uid": 0, "gid": 0 } },
          "linux": {
            "namespaces": [ { "type": "pid" }, { "type": "mount" } ],
            "uidMappings": [ { "containerID": 0, "hostID": 100000, "size": 65536 } ]
          }
        }
        """;

    [Fact]
    public void A_runtime_spec_parses_into_the_model()
    {
        var spec = Bundle.Parse(Minimal, "config.json");
        Assert.Equal("1.0.2", spec.OciVersion);
        Assert.True(spec.Root!.Readonly);
        Assert.Equal(["/bin/true"], spec.Process!.Args);
        Assert.Equal(100000u, spec.Linux!.UidMappings![0].HostId);
        Assert.Equal(["pid", "mount"], spec.Linux.Namespaces!.Select(n => n.Type));
    }

    [Theory]
    [InlineData("\"hooks\": { \"prestop\": [] },", "config.json:2: hooks.prestop: not supported by InitOS")]
    [InlineData("\"process\": { \"args\": [\"x\"], \"apparmorProfile\": \"p\" },", "config.json:2: process.apparmorProfile: not supported by InitOS")]
    [InlineData("\"linux\": { \"intelRdt\": {} },", "config.json:2: linux.intelRdt: not supported by InitOS")]
    [InlineData("\"linux\": { \"resources\": { \"memory\": { \"limit\": \"lots\" } } },", "config.json:2: linux.resources.memory.limit: wrong type of value: expected an integer")]
    [InlineData("\"process\": { \"args\": [\"x\", 7] },", "config.json:2: process.args[1]: wrong type of value: expected a string")]
    [InlineData("\"linux\": { \"uidMappings\": [ { \"containerID\": -1 } ] },", "config.json:2: linux.uidMappings[0].containerID: wrong type of value: expected an integer from 0 to 4294967295")]
    public void An_unsupported_field_or_a_wrong_value_is_an_error_naming_the_field(string member, string expected)
    {
        var json = "{\n" + member + "\n\"ociVersion\": \"1.0.2\"\n}";
        var e = Assert.Throws<SpecException>(() => Bundle.Parse(json, "config.json"));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void Every_problem_is_listed_at_once_each_with_its_line()
    {
        var json = "{\n\"hooks\": { \"prestop\": [] },\n\"ociVersion\": 1,\n\"linux\": { \"intelRdt\": {} }\n}";
        var e = Assert.Throws<SpecException>(() => Bundle.Parse(json, "config.json"));
        Assert.Equal(
            "config.json:2: hooks.prestop: not supported by InitOS\nconfig.json:3: ociVersion: wrong type of value: expected a string\nconfig.json:4: linux.intelRdt: not supported by InitOS",
            e.Message);
    }

    [Theory]
    [InlineData("{\n\"ociVersion\": \"1.0.2\",\n}", "config.json:3: not valid JSON")]
    [InlineData("[1]", "config.json:1: (top level): wrong type of value: expected an object")]
    [InlineData("null", "config.json:1: (top level): null, not a runtime spec")]
    [InlineData("{} {}", "config.json:1: not valid JSON")]
    public void Broken_json_is_named_with_its_line(string json, string expected) =>
        Assert.Equal(expected, Assert.Throws<SpecException>(() => Bundle.Parse(json, "config.json")).Message);

    [Fact]
    public void A_missing_config_names_the_bundle_directory()
    {
        var dir = Directory.CreateTempSubdirectory("bundle-").FullName;
        try
        {
            var e = Assert.Throws<SpecException>(() => Bundle.Load(dir));
            Assert.Contains($"no config.json in the bundle directory {dir}", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir);
        }
    }
}
