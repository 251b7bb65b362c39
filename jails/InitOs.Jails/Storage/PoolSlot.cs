namespace InitOs.Jails.Storage;

/// <summary>
/// A slot leased from a <see cref="SubvolumePool"/>: the subvolume, the overlay upper and work
/// directories inside it, and the lease token that <see cref="SubvolumePool.Release(PoolSlot)"/> needs.
/// Upper and work are sub-directories, not the subvolume itself: an overlay whose upper is a
/// subvolume's top directory fails with EXDEV.
/// </summary>
public sealed record PoolSlot(int Index, string Subvolume, string Upper, string Work, string Lease);
