"""Our client for Xero (OAuth, Connections, Accounting); knows nothing of Flask views."""
