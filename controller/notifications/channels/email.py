"""The ``email`` type over smtplib, with the semantics of AWX's (Django's) SMTP backend.

One message to all recipients (one ``To:`` header listing them), plain UTF-8 text, the rendered
``message`` as subject and the rendered body as text.  ``use_ssl`` opens an implicit-TLS
connection (SMTPS), ``use_tls`` upgrades a plain one with STARTTLS; login happens only when
both a username and a password are set.  Returns 1 (Django counts messages, not recipients).
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from .base import Message, SendError, as_list, describe


def build_email(config: dict[str, Any], message: Message) -> EmailMessage:
    """The MIME message AWX would send: From sender, To recipients, Subject, Date, Message-ID."""
    if "\n" in message.subject or "\r" in message.subject:
        # Django: BadHeaderError; AWX's validator refuses such templates on save already.
        raise SendError("Header values can't contain newlines")
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = str(config.get("sender") or "")
    email["To"] = ", ".join(as_list(config.get("recipients")))
    email["Date"] = formatdate(localtime=True)
    email["Message-ID"] = make_msgid()
    body = message.body if isinstance(message.body, str) else str(message.body or "")
    email.set_content(body, charset="utf-8")
    return email


def send_email(config: dict[str, Any], message: Message) -> int:
    """Deliver ``message`` over SMTP; SendError on any SMTP or network failure."""
    recipients = as_list(config.get("recipients"))
    if not recipients:
        raise SendError("No recipients configured")
    host = str(config.get("host") or "localhost")
    port = int(config.get("port") or (465 if config.get("use_ssl") else 25))
    timeout = float(config.get("timeout") or message.timeout)
    email = build_email(config, message)
    context = ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if config.get("use_ssl"):
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if config.get("use_tls") and not config.get("use_ssl"):
                smtp.starttls(context=context)
            if config.get("username") and config.get("password"):
                smtp.login(str(config["username"]), str(config["password"]))
            smtp.send_message(email, from_addr=str(config.get("sender") or ""), to_addrs=recipients)
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(f"SMTP authentication failed on {host}:{port} ({exc.smtp_code})") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendError(f"SMTP server {host}:{port} refused the recipients {sorted(exc.recipients)}") from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise SendError(f"SMTP error from {host}:{port}: {exc.smtp_code} {text}") from None
    except smtplib.SMTPException as exc:
        raise SendError(f"SMTP error from {host}:{port}: {exc}") from None
    except OSError as exc:
        raise SendError(f"Error sending email to {host}:{port}: {describe(exc, timeout)}") from None
    return 1
