"""The senders of the notification types: one function per type, standard library only.

Each sender takes the decrypted configuration and a :class:`~.base.Message` and returns how
many notifications it sent, or raises :class:`~.base.SendError`.  They never log; a secret
reaches an error text only through a bug, and :mod:`controller.notifications.types` redacts
the configured secrets from every error as a second line of defence.
"""
