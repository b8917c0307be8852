"""The sync engine: paging, checkpoints, upserts (the streams table is wizard/xero/streams.py)."""
