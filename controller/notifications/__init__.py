"""Notifications: types and senders, routing snapshots, the send records and their delivery."""
