"""Xero webhooks: signed deliveries in, coalesced incremental syncs of the changed data types out."""
