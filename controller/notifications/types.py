"""The notification type registry: each type is one declaration (fields, default messages) plus a sender.

AWX's ten types keep AWX's names, fields, defaults and default messages (``init_parameters`` and
``default_messages`` of ``awx/main/notifications/*``).  A field with a default is optional and
AWX fills the default in on save; every other AWX field is required.  Optional keys AWX's
senders read but do not declare (``hex_color``, ``mattermost_channel``, grafana's ``dashboardId``
...) are declared here with ``required=False`` and no default, so they are documented and
validated but never filled in.

Turret's five types (``teams``, ``dingtalk``, ``wecom``, ``telegram``, ``discord``) hold their
secret (the webhook URL, bot token or signing secret) in ``password`` fields: encrypted at rest,
shown as ``$encrypted$``.

Endpoints: every type reaches its service at a configured URL.  The types AWX sends to fixed
public hosts (slack, pagerduty, twilio, awssns, and telegram) take an optional ``api_url``
(default: the public service) — for a proxy, a regional mirror, or a test's local receiver.

``TYPES[name].send(config, message)`` takes the *decrypted* configuration and returns how many
notifications were sent; it raises only :class:`SendError`, whose text never holds a secret:
the senders name hosts only, and this module redacts every configured secret from the text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

from .channels import chat, cloud, email, irc, robots, webhook
from .channels.base import Message, SendError

__all__ = ["ConfigField", "NotificationType", "Message", "SendError", "TYPES", "redact"]

REDACTED = "$encrypted$"


@dataclass(frozen=True)
class ConfigField:
    """One key of ``notification_configuration``.

    ``kind``: "string" | "int" | "bool" | "list" | "object" | "password" (AWX's types; a password
    is a string stored encrypted).  ``required`` fields must be given; an optional field with a
    non-None ``default`` gets it filled in on save (as AWX does).
    """
    name: str
    kind: str
    label: str
    default: Any = None
    required: bool = True
    help_text: str = ""
    # a key Turret reads beyond AWX's ``init_parameters`` of the type (``_opt``)
    extra: bool = False


@dataclass(frozen=True)
class NotificationType:
    """A notification type.  ``default_messages`` has AWX's shape ({"started"|"success"|"error":
    {"message", "body"}, "workflow_approval": {"running"|"approved"|"timed_out"|"denied": {...}}};
    a None body means the type sends the subject only).  ``body_is_json``: the body template must
    render to a JSON object (webhook, as AWX validates).  ``rate_per_minute``: the destination's limit (0 =
    none).  ``recipient_parameter``: the config key AWX shows as a notification's ``recipients``
    ("" when that value is a secret)."""
    name: str
    label: str
    fields: tuple[ConfigField, ...]
    default_messages: dict
    body_is_json: bool
    send: Callable[[dict, Message], int]
    rate_per_minute: int = 0
    recipient_parameter: str = ""

    def secret_fields(self) -> tuple[str, ...]:
        """Names of the fields stored encrypted and shown as ``$encrypted$``."""
        return tuple(f.name for f in self.fields if f.kind == "password")


# AWX's default templates (awx/main/notifications/custom_notification_base.py).
DEFAULT_MSG = "{{ job_friendly_name }} #{{ job.id }} '{{ job.name }}' {{ job.status }}: {{ url }}"
DEFAULT_BODY = ("{{ job_friendly_name }} #{{ job.id }} had status {{ job.status }}, view details at {{ url }}"
                "\n\n{{ job_metadata }}")
_APPROVAL_TEXT = {
    "running": ('The approval node "{{ approval_node_name }}" needs review. This node can be viewed at: '
                "{{ workflow_url }}",
                'The approval node "{{ approval_node_name }}" needs review. This approval node can be viewed at: '
                "{{ workflow_url }}"),
    "approved": ('The approval node "{{ approval_node_name }}" was approved. {{ workflow_url }}',) * 2,
    "timed_out": ('The approval node "{{ approval_node_name }}" has timed out. {{ workflow_url }}',) * 2,
    "denied": ('The approval node "{{ approval_node_name }}" was denied. {{ workflow_url }}',) * 2,
}
# The short detail Turret's chat types show under the subject.
CHAT_BODY = ("Status: {{ job.status }}{% if job.playbook %}\nPlaybook: {{ job.playbook }}{% endif %}"
             "{% if job.limit %}\nLimit: {{ job.limit }}{% endif %}"
             "{% if job.job_explanation %}\n{{ job.job_explanation }}{% endif %}")
CHAT_APPROVAL_BODY = "Approval: {{ approval_node_name }}\nStatus: {{ approval_status }}\nWorkflow: {{ workflow_url }}"


def _messages(body: str | None, approval_body: Callable[[str], str | None]) -> dict:
    """Default messages with AWX's subjects, ``body`` for job events and ``approval_body(event)``."""
    jobs = {event: {"message": DEFAULT_MSG, "body": body} for event in ("started", "success", "error")}
    approvals = {event: {"message": msg, "body": approval_body(event)} for event, (msg, _) in _APPROVAL_TEXT.items()}
    return {**jobs, "workflow_approval": approvals}


SUBJECT_ONLY = _messages(None, lambda event: None)
EMAIL_MESSAGES = _messages(DEFAULT_BODY, lambda event: _APPROVAL_TEXT[event][1] + "\n\n{{ job_metadata }}")
METADATA_MESSAGES = _messages("{{ job_metadata }}", lambda event: _APPROVAL_TEXT[event][1] + "\n\n{{ job_metadata }}")
# AWX's ``job_metadata_messages`` (webhook, awssns): bodies only, no subject (a send's subject is "")
_QUOTED_NODE = ('"{{ approval_node_name }}"', '\\"{{ approval_node_name }}\\"')
JSON_MESSAGES = {
    **{event: {"body": "{{ job_metadata }}"} for event in ("started", "success", "error")},
    "workflow_approval": {event: {"body": '{"body": "' + msg.replace(*_QUOTED_NODE) + '"}'}
                          for event, (msg, _) in _APPROVAL_TEXT.items()},
}
CHAT_MESSAGES = _messages(CHAT_BODY, lambda event: CHAT_APPROVAL_BODY)


def redact(text: str, config: dict, secret_names: tuple[str, ...]) -> str:
    """``text`` with every configured secret (and the query values and long path segments of a
    secret URL, and webhook header values) replaced by ``$encrypted$``."""
    secrets: set[str] = set()
    for name in secret_names:
        value = str(config.get(name) or "")
        secrets.add(value)
        if "://" in value:
            parts = urlsplit(value)
            secrets.update(v for _, v in parse_qsl(parts.query))
            secrets.update(seg for seg in parts.path.split("/") if len(seg) >= 8)
    if isinstance(config.get("headers"), dict):
        secrets.update(str(v) for v in config["headers"].values())
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _guarded(sender: Callable[[dict, Message], int], fields: tuple[ConfigField, ...]) -> Callable[[dict, Message], int]:
    """``sender`` raising only SendError, with the configured secrets redacted from its text."""
    secret_names = tuple(f.name for f in fields if f.kind == "password")

    def send(config: dict, message: Message) -> int:
        try:
            return sender(config, message)
        except SendError as exc:
            raise SendError(redact(str(exc), config, secret_names)) from None
        except Exception as exc:  # a sender bug or an unforeseen library error: still a failed send
            raise SendError(redact(f"{type(exc).__name__}: {exc}", config, secret_names)) from None

    send.__doc__ = sender.__doc__
    return send


def _type(name: str, label: str, fields: tuple[ConfigField, ...], messages: dict,
          sender: Callable[[dict, Message], int], *, body_is_json: bool = False, rate: int = 0,
          recipient: str = "") -> NotificationType:
    return NotificationType(name, label, fields, messages, body_is_json, _guarded(sender, fields), rate, recipient)


def _opt(name: str, kind: str, label: str, help_text: str = "", default: Any = None) -> ConfigField:
    """An optional field (filled with ``default`` on save only when that is not None)."""
    return ConfigField(name, kind, label, default=default, required=False, help_text=help_text, extra=True)


# the types AWX has: on these only AWX's own fields are type-checked on save (AWX passes any other
# key to its backend as given, and its grafana backend int()s the dashboard and panel ids at send)
AWX_TYPES = frozenset(("email", "slack", "webhook", "mattermost", "rocketchat", "pagerduty", "grafana", "irc",
                       "twilio", "awssns"))


API_URL_HELP = "Base URL of the service's API (default: the public service); for a proxy or a test receiver."
F = ConfigField

TYPES: dict[str, NotificationType] = {t.name: t for t in (
    _type("email", "Email", (
        F("host", "string", "Host"), F("port", "int", "Port"), F("username", "string", "Username"),
        F("password", "password", "Password"), F("use_tls", "bool", "Use TLS"), F("use_ssl", "bool", "Use SSL"),
        F("sender", "string", "Sender Email"), F("recipients", "list", "Recipient List"),
        F("timeout", "int", "Timeout", default=30, required=False)),
        EMAIL_MESSAGES, email.send_email, recipient="recipients"),
    _type("slack", "Slack", (
        F("token", "password", "Token"), F("channels", "list", "Destination Channels",
                                           help_text="`#channel`, or `channel,thread_ts` to answer in a thread."),
        _opt("hex_color", "string", "Notification Color", "`#RGB` or `#RRGGBB`: send as a coloured attachment."),
        _opt("api_url", "string", "API URL", API_URL_HELP)),
        SUBJECT_ONLY, chat.send_slack, recipient="channels"),
    _type("webhook", "Webhook", (
        F("url", "string", "Target URL"), F("http_method", "string", "HTTP Method", default="POST", required=False),
        F("disable_ssl_verification", "bool", "Verify SSL", default=False, required=False),
        F("username", "string", "Username", default="", required=False),
        F("password", "password", "Password", default="", required=False),
        F("headers", "object", "HTTP Headers")),
        JSON_MESSAGES, webhook.send_webhook, body_is_json=True, recipient="url"),
    _type("mattermost", "Mattermost", (
        F("mattermost_url", "string", "Target URL"), F("mattermost_no_verify_ssl", "bool", "Verify SSL"),
        _opt("mattermost_channel", "string", "Channel"), _opt("mattermost_username", "string", "Username"),
        _opt("mattermost_icon_url", "string", "Icon URL")),
        SUBJECT_ONLY, chat.send_mattermost, recipient="mattermost_url"),
    _type("rocketchat", "Rocket.Chat", (
        F("rocketchat_url", "string", "Target URL"), F("rocketchat_no_verify_ssl", "bool", "Verify SSL"),
        _opt("rocketchat_username", "string", "Username"), _opt("rocketchat_icon_url", "string", "Icon URL")),
        SUBJECT_ONLY, chat.send_rocketchat, recipient="rocketchat_url"),
    _type("pagerduty", "Pagerduty", (
        F("subdomain", "string", "Pagerduty subdomain"), F("token", "password", "API Token"),
        F("service_key", "string", "API Service/Integration Key"), F("client_name", "string", "Client Identifier"),
        _opt("api_url", "string", "Events API URL", API_URL_HELP)),
        METADATA_MESSAGES, webhook.send_pagerduty, recipient="service_key"),
    _type("grafana", "Grafana", (
        F("grafana_url", "string", "Grafana URL"), F("grafana_key", "password", "Grafana API Key"),
        _opt("dashboardId", "int", "ID of the Dashboard"), _opt("panelId", "int", "ID of the Panel"),
        _opt("annotation_tags", "list", "Tags for the Annotation"),
        _opt("grafana_no_verify_ssl", "bool", "Disable SSL Verification"),
        _opt("isRegion", "bool", "Annotation is a region (started to finished)")),
        # AWX validates only webhook bodies as JSON (its own grafana approval bodies are text);
        # the sender reads started/finished from the body when it is a JSON object.
        METADATA_MESSAGES, webhook.send_grafana, recipient="grafana_url"),
    _type("irc", "IRC", (
        F("server", "string", "IRC Server Address"), F("port", "int", "IRC Server Port"),
        F("nickname", "string", "IRC Nick"), F("password", "password", "IRC Server Password"),
        F("use_ssl", "bool", "SSL Connection"), F("targets", "list", "Destination Channels or Users")),
        SUBJECT_ONLY, irc.send_irc, recipient="targets"),
    _type("twilio", "Twilio", (
        F("account_sid", "string", "Account SID"), F("account_token", "password", "Account Token"),
        F("from_number", "string", "Source Phone Number"), F("to_numbers", "list", "Destination SMS Numbers"),
        _opt("api_url", "string", "API URL", API_URL_HELP)),
        SUBJECT_ONLY, cloud.send_twilio, recipient="to_numbers"),
    _type("awssns", "AWS SNS", (
        F("aws_region", "string", "AWS Region", default="", required=False),
        F("aws_access_key_id", "string", "Access Key ID", default="", required=False),
        F("aws_secret_access_key", "password", "Secret Access Key", default="", required=False),
        F("aws_session_token", "password", "Session Token", default="", required=False),
        F("sns_topic_arn", "string", "SNS Topic ARN", default="", required=False),
        _opt("api_url", "string", "SNS endpoint URL", "Default: https://sns.<region>.amazonaws.com.")),
        JSON_MESSAGES, cloud.send_awssns, recipient="sns_topic_arn"),
    _type("teams", "Microsoft Teams", (
        F("webhook_url", "password", "Workflows Webhook URL",
          help_text="URL of a Teams Workflows (Power Automate) flow \"When a Teams webhook request is received\"; "
                    "the whole URL is the secret.  The message is posted as an Adaptive Card 1.4."),),
        CHAT_MESSAGES, chat.send_teams),
    _type("dingtalk", "DingTalk", (
        F("webhook_url", "password", "Robot Webhook URL",
          help_text="The custom robot's URL, with its access_token."),
        _opt("secret", "password", "Signing Secret", "The robot's 加签 secret (SEC...): requests are signed."),
        _opt("msgtype", "string", "Message Type", "`text` or `markdown`.", default="text"),
        _opt("at_mobiles", "list", "Mention Mobiles"), _opt("at_user_ids", "list", "Mention User IDs"),
        _opt("is_at_all", "bool", "Mention Everyone", default=False)),
        CHAT_MESSAGES, robots.send_dingtalk, rate=20),
    _type("wecom", "WeCom", (
        F("webhook_url", "password", "Group Robot Webhook URL", help_text="The robot's URL, with its key."),
        _opt("msgtype", "string", "Message Type", "`text` or `markdown`.", default="text"),
        _opt("mentioned_list", "list", "Mention User IDs", "User ids, or `@all` (text messages; markdown: ids)."),
        _opt("mentioned_mobile_list", "list", "Mention Mobiles", "Mobile numbers, or `@all` (text messages).")),
        CHAT_MESSAGES, robots.send_wecom, rate=20),
    _type("telegram", "Telegram", (
        F("bot_token", "password", "Bot Token"), F("chat_ids", "list", "Chat IDs",
                                                   help_text="Chat ids or `@channelusername`."),
        _opt("parse_mode", "string", "Parse Mode", "Empty, `HTML`, `Markdown` or `MarkdownV2`."),
        _opt("disable_notification", "bool", "Silent", default=False),
        _opt("api_url", "string", "Bot API URL", API_URL_HELP)),
        CHAT_MESSAGES, chat.send_telegram, recipient="chat_ids"),
    _type("discord", "Discord", (
        F("webhook_url", "password", "Channel Webhook URL"),
        _opt("username", "string", "Username", "Overrides the webhook's name."),
        _opt("avatar_url", "string", "Avatar URL")),
        CHAT_MESSAGES, chat.send_discord, rate=30),
)}
