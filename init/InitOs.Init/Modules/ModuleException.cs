namespace InitOs.Init.Modules;

/// <summary>A module that cannot be loaded; the message names it and why.</summary>
public sealed class ModuleException(string message) : Exception(message);
