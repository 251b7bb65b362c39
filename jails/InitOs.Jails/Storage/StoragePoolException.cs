namespace InitOs.Jails.Storage;

/// <summary>The storage pool cannot do what was asked: no free slot, a lease that does not match, a slot that is not a subvolume.</summary>
public sealed class StoragePoolException : Exception
{
    public StoragePoolException() { }

    public StoragePoolException(string message) : base(message) { }

    public StoragePoolException(string message, Exception inner) : base(message, inner) { }
}
