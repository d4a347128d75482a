"""Notifications: delivering the messages of subscribed queues to their
subscribers (webhooks, mail, Keystone-trusted webhooks), at least once."""
