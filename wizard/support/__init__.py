"""Support access: customer-issued grants, the staff console and connection doctor, the audit log."""
