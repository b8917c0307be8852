"""The synced books of one connection: counts, chart of accounts, monthly P&L, reconciliation."""
