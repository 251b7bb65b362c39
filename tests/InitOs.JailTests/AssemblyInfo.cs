// Jail tests create loop devices, mounts, namespaces and links on the one host: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
