using InitOs.Jails.Running;

namespace InitOs.UnitTests.Jails;

/// <summary>The jail lifecycle's guards: create → created → running → stopped → deleted, and nothing else.</summary>
public sealed class JailLifecycleTests
{
    [Theory]
    [InlineData(JailVerb.Start, JailStatus.Created, JailStatus.Running)]
    [InlineData(JailVerb.Kill, JailStatus.Created, JailStatus.Created)]
    [InlineData(JailVerb.Kill, JailStatus.Running, JailStatus.Running)]
    [InlineData(JailVerb.Exec, JailStatus.Running, JailStatus.Running)]
    [InlineData(JailVerb.Delete, JailStatus.Stopped, JailStatus.Deleted)]
    [InlineData(JailVerb.Delete, JailStatus.Created, JailStatus.Deleted)]
    [InlineData(JailVerb.ForceDelete, JailStatus.Running, JailStatus.Deleted)]
    [InlineData(JailVerb.ForceDelete, JailStatus.Created, JailStatus.Deleted)]
    [InlineData(JailVerb.ForceDelete, JailStatus.Creating, JailStatus.Deleted)]
    [InlineData(JailVerb.ForceDelete, JailStatus.Stopped, JailStatus.Deleted)]
    public void An_allowed_verb_leads_where_the_lifecycle_says(JailVerb verb, JailStatus from, JailStatus to)
    {
        JailLifecycle.Check("j1", verb, from);
        Assert.Equal(to, JailLifecycle.After(verb, from));
    }

    [Theory]
    [InlineData(JailVerb.Start, JailStatus.Running, "jail j1 is running: start needs it created")]
    [InlineData(JailVerb.Start, JailStatus.Stopped, "jail j1 is stopped: start needs it created")]
    [InlineData(JailVerb.Exec, JailStatus.Created, "jail j1 is created: exec needs it running")]
    [InlineData(JailVerb.Exec, JailStatus.Stopped, "jail j1 is stopped: exec needs it running")]
    [InlineData(JailVerb.Kill, JailStatus.Stopped, "jail j1 is stopped: kill needs it created or running")]
    [InlineData(JailVerb.Delete, JailStatus.Running, "jail j1 is running: delete needs it created or stopped; stop it first or use --force")]
    [InlineData(JailVerb.Start, JailStatus.Deleted, "jail j1 is deleted: start needs it created")]
    [InlineData(JailVerb.ForceDelete, JailStatus.Deleted, "jail j1 is deleted: delete --force needs it creating or created or running or stopped")]
    public void A_refused_transition_says_what_the_status_is_and_what_the_verb_needs(JailVerb verb, JailStatus from, string message)
    {
        Assert.False(JailLifecycle.Allows(verb, from));
        var refused = Assert.Throws<JailException>(() => JailLifecycle.Check("j1", verb, from));
        Assert.Equal(message, refused.Message);
    }

    [Theory]
    [InlineData("creating", JailStatus.Creating)]
    [InlineData("created", JailStatus.Created)]
    [InlineData("running", JailStatus.Running)]
    [InlineData("stopped", JailStatus.Stopped)]
    public void The_oci_words_round_trip(string word, JailStatus status)
    {
        Assert.Equal(status, JailLifecycle.Parse(word));
        Assert.Equal(word, JailLifecycle.Name(status));
    }

    [Theory]
    [InlineData("Running")]
    [InlineData("paused")]
    [InlineData("")]
    public void A_status_word_the_oci_does_not_use_is_refused(string word) =>
        Assert.Throws<JailException>(() => JailLifecycle.Parse(word));

    [Theory]
    [InlineData("/tmp/x")]
    [InlineData("..")]
    [InlineData("../jails/x")]
    [InlineData(".hidden")]
    [InlineData("")]
    public void A_jail_id_is_a_name_never_a_path(string id)
    {
        var refused = Assert.Throws<JailException>(() => JailIds.Check(id));
        Assert.Contains($"jail ID '{id}'", refused.Message, StringComparison.Ordinal);
    }
}
