// One test changes the process environment (the README's first example reads it, as an application does).
[assembly: CollectionBehavior(DisableTestParallelization = true)]
