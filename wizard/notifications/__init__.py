"""In-app notifications for workspace admins: a list page and an unread count in the nav."""
