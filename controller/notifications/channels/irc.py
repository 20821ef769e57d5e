"""The ``irc`` type: one real IRC client session over a socket (RFC 2812's few commands).

Connect (TLS when ``use_ssl``), ``PASS`` when a password is set, ``NICK`` and ``USER``; after the
welcome (001) send ``PRIVMSG <target> :<subject>`` to each user target, and to each channel
target once the server confirms our ``JOIN``; answer ``PING``; end with ``QUIT``.  Returns the
number of targets messaged (as AWX counts); nothing messaged in time is a failure.
With ``use_ssl`` the server's certificate is verified (AWX's irc library did not verify it).
"""
from __future__ import annotations

import socket
import ssl
import time
from typing import Any, Iterator

from .base import Message, SendError, as_list, describe

CHANNEL_PREFIXES = "#&+!"
# Replies after which a target cannot be messaged (no such channel, banned, invite only, ...).
JOIN_REFUSALS = {"403", "405", "471", "473", "474", "475", "477"}
# Replies that end the session (nick in use or invalid, bad password, banned from the server).
FATAL = {"432", "433", "436", "464", "465"}
MAX_LINE_BYTES = 400   # IRC lines are 512 bytes with the prefix; leave room for it


class _Session:
    """A line-oriented IRC connection with a deadline on every read."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock, self.deadline, self.buffer = sock, deadline, b""

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode("utf-8") + b"\r\n")

    def lines(self) -> Iterator[str]:
        """Yield the server's lines until the deadline (then stop)."""
        while True:
            while b"\n" in self.buffer:
                raw, _, self.buffer = self.buffer.partition(b"\n")
                yield raw.rstrip(b"\r").decode("utf-8", "replace")
            left = self.deadline - time.monotonic()
            if left <= 0:
                return
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(4096)
            except (socket.timeout, TimeoutError):
                return
            if not chunk:
                return
            self.buffer += chunk


def _parse(line: str) -> tuple[str, str, list[str]]:
    """(prefix, command, params) of an IRC line; the trailing ``:`` parameter is the last one."""
    prefix = ""
    if line.startswith(":"):
        prefix, _, line = line[1:].partition(" ")
    head, sep, trailing = line.partition(" :")
    parts = head.split()
    params = parts[1:] + ([trailing] if sep else [])
    return prefix, (parts[0].upper() if parts else ""), params


def _one_line(text: str) -> str:
    """The subject as one IRC-safe line of at most MAX_LINE_BYTES bytes."""
    flat = " ".join(text.splitlines())
    return flat.encode("utf-8")[:MAX_LINE_BYTES].decode("utf-8", "ignore")


def _connect(config: dict[str, Any], timeout: float) -> socket.socket:
    server, port = str(config.get("server") or ""), int(config.get("port") or 6667)
    try:
        sock = socket.create_connection((server, port), timeout=timeout)
        if config.get("use_ssl"):
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=server)
        return sock
    except OSError as exc:
        raise SendError(f"Exception connecting to irc server {server}:{port}: {describe(exc, timeout)}") from None


def send_irc(config: dict[str, Any], message: Message) -> int:
    """Message every target of ``targets`` (channels and nicks) within ``message.timeout``."""
    targets = as_list(config.get("targets"))
    nick = str(config.get("nickname") or "turret")
    text = _one_line(message.subject)
    pending = set(targets)
    sent = 0
    with _connect(config, message.timeout) as sock:
        session = _Session(sock, time.monotonic() + message.timeout)
        try:
            if config.get("password"):
                session.send(f"PASS {config['password']}")
            session.send(f"NICK {nick}")
            session.send(f"USER {nick} 0 * :{nick}")
            for line in session.lines():
                prefix, command, params = _parse(line)
                if command == "PING":
                    session.send(f"PONG :{params[-1] if params else ''}")
                elif command == "001":
                    for target in targets:
                        if target[:1] in CHANNEL_PREFIXES:
                            session.send(f"JOIN {target}")
                        else:
                            session.send(f"PRIVMSG {target} :{text}")
                            pending.discard(target)
                            sent += 1
                elif command == "JOIN" and prefix.split("!")[0] == nick and params and params[0] in pending:
                    session.send(f"PRIVMSG {params[0]} :{text}")
                    pending.discard(params[0])
                    sent += 1
                elif command in JOIN_REFUSALS and len(params) > 1:
                    pending.discard(params[1])
                elif command in FATAL or command == "ERROR":
                    raise SendError(f"IRC server refused the session: {command} {params[-1] if params else ''}")
                if not pending:
                    break
            session.send("QUIT :done")
        except OSError as exc:
            raise SendError(f"Error talking to irc server: {describe(exc, message.timeout)}") from None
    if not sent and targets:
        raise SendError(f"IRC notification reached none of {len(targets)} targets in {message.timeout:g} s")
    return sent
