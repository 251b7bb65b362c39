using InitOs.Init.Config;
using InitOs.Init.Recovery;
using InitOs.Sys;

namespace InitOs.UnitTests.Recovery;

public sealed class RecoveryPasswordTests
{
    private static string OpensslHash(string password, string algorithm = "-6") =>
        InitOs.Tools.ExternalTool.Run("openssl", ["passwd", algorithm, "-salt", "initossalt", password]).Trim();

    [Theory]
    [InlineData(false, null, ShellAccess.Open)]
    [InlineData(false, "$6$x$y", ShellAccess.Open)]
    [InlineData(true, null, ShellAccess.Refused)]
    [InlineData(true, "$6$x$y", ShellAccess.Password)]
    public void Secure_boot_closes_the_shell_unless_the_signed_config_holds_a_password(bool secureBoot, string? hash, ShellAccess expected) =>
        Assert.Equal(expected, ShellGuard.Decide(secureBoot, hash));

    [Fact]
    public void The_right_password_matches_an_openssl_sha512_hash_and_a_wrong_one_does_not()
    {
        var hash = OpensslHash("correct horse");
        Assert.True(CryptPassword.Matches("correct horse", hash));
        Assert.False(CryptPassword.Matches("correct horsf", hash));
        Assert.False(CryptPassword.Matches("", hash));
    }

    [Fact]
    public void A_broken_hash_matches_nothing()
    {
        Assert.False(CryptPassword.Matches("anything", "$6$"));
        Assert.False(CryptPassword.Matches("anything", "*"));
    }

    [Fact]
    public void The_config_takes_a_sha512_hash_into_the_boot_settings()
    {
        var hash = OpensslHash("pw");
        var config = ConfigLoader.Parse($"[recovery]\npassword_hash = \"{hash}\"\n", "initos.toml");
        Assert.Equal(hash, SettingsBuilder.Build(config, KernelCommandLine.Parse("")).Recovery.PasswordHash);
    }

    [Theory]
    [InlineData("hunter2")]
    [InlineData("$1$salt$md5isnotenoughxxxxxxxx")]
    [InlineData("$6$salt$")]
    [InlineData("$6$salt$has spaces in it and more")]
    public void Anything_but_a_sha512_or_yescrypt_hash_is_refused_naming_the_line(string value)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse($"[recovery]\npassword_hash = \"{value}\"\n", "initos.toml"));
        Assert.Contains("initos.toml:2: recovery.password_hash: expected a SHA-512", e.Message, StringComparison.Ordinal);
    }
}
