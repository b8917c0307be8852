"""The sync engine: streams table, paging, checkpoints, upserts."""
