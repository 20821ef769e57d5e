"""The notification types deliver real messages to local receivers (HTTP, SMTP, IRC) in the exact
wire format of AWX's backends or of the service, and fail with secret-free errors."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time
from datetime import datetime, timezone
from urllib.parse import quote_plus

import pytest

from controller.config import VERSION
from controller.notifications.channels import robots
from controller.notifications.channels.cloud import sigv4_headers
from controller.notifications.types import TYPES, ConfigField, Message, SendError, redact
from tests.support.receivers import Answer, HttpSink, IrcSink, SmtpSink, free_port, make_certificate

UA = f"Turret {VERSION}"
JOB_URL = "https://turret.example/#/jobs/playbook/42"
MSG = Message(subject="Job #42 'deploy' failed: " + JOB_URL, body="Status: failed\nPlaybook: site.yml",
              url=JOB_URL, status="failed", timeout=2.0)
METADATA = {"id": 42, "name": "deploy", "started": "2026-12-05T01:00:00+00:00",
            "finished": "2026-12-05T01:00:30.500000+00:00", "status": "failed"}


def send(type_name: str, config: dict, message: Message = MSG) -> int:
    return TYPES[type_name].send(config, message)


def test_registry_holds_awx_ten_and_turret_five_with_awx_field_names():
    assert set(TYPES) == {"email", "slack", "webhook", "mattermost", "rocketchat", "pagerduty", "grafana", "irc",
                          "twilio", "awssns", "teams", "dingtalk", "wecom", "telegram", "discord"}
    required = {name: [f.name for f in t.fields if f.required] for name, t in TYPES.items()}
    assert required["email"] == ["host", "port", "username", "password", "use_tls", "use_ssl", "sender",
                                 "recipients"]
    assert required["webhook"] == ["url", "headers"]
    assert required["awssns"] == []
    webhook = {f.name: f for f in TYPES["webhook"].fields}
    assert webhook["http_method"] == ConfigField("http_method", "string", "HTTP Method", "POST", False)
    assert TYPES["email"].fields[-1].default == 30
    assert TYPES["slack"].secret_fields() == ("token",)
    assert TYPES["dingtalk"].secret_fields() == ("webhook_url", "secret")
    assert (TYPES["dingtalk"].rate_per_minute, TYPES["wecom"].rate_per_minute) == (20, 20)
    assert all(f.kind in {"string", "int", "bool", "list", "object", "password"}
               for t in TYPES.values() for f in t.fields)
    assert [name for name, t in TYPES.items() if t.body_is_json] == ["webhook"]


def test_default_messages_are_awx_ones():
    default = "{{ job_friendly_name }} #{{ job.id }} '{{ job.name }}' {{ job.status }}: {{ url }}"
    assert TYPES["slack"].default_messages["error"] == {"message": default, "body": None}
    assert TYPES["email"].default_messages["success"]["body"] == (
        "{{ job_friendly_name }} #{{ job.id }} had status {{ job.status }}, view details at {{ url }}"
        "\n\n{{ job_metadata }}")
    assert TYPES["webhook"].default_messages["started"]["body"] == "{{ job_metadata }}"
    running = TYPES["webhook"].default_messages["workflow_approval"]["running"]["body"]
    assert json.loads(running.replace("{{ approval_node_name }}", "gate").replace("{{ workflow_url }}", "u")) == {
        "body": 'The approval node "gate" needs review. This node can be viewed at: u'}
    assert TYPES["grafana"].default_messages["workflow_approval"]["denied"]["body"] == (
        'The approval node "{{ approval_node_name }}" was denied. {{ workflow_url }}\n\n{{ job_metadata }}')
    for t in TYPES.values():
        assert set(t.default_messages) == {"started", "success", "error", "workflow_approval"}
        assert set(t.default_messages["workflow_approval"]) == {"running", "approved", "timed_out", "denied"}


# --- email -----------------------------------------------------------------------------------

def email_config(port: int, **extra) -> dict:
    return {"host": "127.0.0.1", "port": port, "username": "", "password": "", "use_tls": False, "use_ssl": False,
            "sender": "turret@example.com", "recipients": ["ops@example.com", "dev@example.com"], "timeout": 2,
            **extra}


def test_email_is_received_by_the_smtp_server_with_subject_body_and_recipients():
    body = 'Job #42 had status failed\n\n{"id": 42, "name": "déploiement"}'
    with SmtpSink() as smtp:
        assert send("email", email_config(smtp.port), Message(subject=MSG.subject, body=body)) == 1
    (mail_from, rcpt, mail), = smtp.messages
    assert mail_from == "turret@example.com" and rcpt == ["ops@example.com", "dev@example.com"]
    assert mail["From"] == "turret@example.com"
    assert mail["To"] == "ops@example.com, dev@example.com"
    assert mail["Subject"] == MSG.subject
    assert mail.get_content_type() == "text/plain" and mail.get_content_charset() == "utf-8"
    assert mail.get_content().replace("\r\n", "\n").rstrip("\n") == body


def test_email_logs_in_when_username_and_password_are_set_and_hides_a_wrong_password():
    with SmtpSink(users={"mailer": "s3cret-pw"}) as smtp:
        assert send("email", email_config(smtp.port, username="mailer", password="s3cret-pw")) == 1
        assert smtp.logins == ["mailer"] and len(smtp.messages) == 1
        with pytest.raises(SendError) as failed:
            send("email", email_config(smtp.port, username="mailer", password="wrong-pw-123"))
    assert "authentication failed" in str(failed.value) and "wrong-pw-123" not in str(failed.value)
    assert len(smtp.messages) == 1


def test_email_subject_with_a_newline_is_refused():
    with pytest.raises(SendError, match="newlines"):
        send("email", email_config(free_port()), Message(subject="a\nb", body="x"))


def test_email_to_a_dead_port_and_a_silent_server_fail_within_the_timeout():
    with pytest.raises(SendError, match="connection refused"):
        send("email", email_config(free_port()))
    with socket.socket() as silent:           # accepts connections, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        started = time.monotonic()
        with pytest.raises(SendError, match="timed out"):
            send("email", email_config(silent.getsockname()[1], timeout=1))
        assert time.monotonic() - started < 2.5


# --- AWX's HTTP types ------------------------------------------------------------------------

def test_slack_posts_chat_postmessage_per_channel_with_bearer_token_thread_and_color():
    with HttpSink(Answer(json={"ok": True})) as sink:
        config = {"token": "xoxb-secret-token", "channels": ["#ops", "dev,1700000000.0001"], "api_url": sink.url}
        assert send("slack", config) == 2
        assert send("slack", {**config, "channels": ["#ops"], "hex_color": "#f00"}) == 1
    first, second, colored = sink.requests
    assert (first.method, first.path, first.query) == ("POST", "/chat.postMessage", {})
    assert first.headers["authorization"] == "Bearer xoxb-secret-token"
    assert first.headers["content-type"] == "application/json;charset=utf-8"
    assert first.json() == {"channel": "ops", "as_user": True, "text": MSG.subject}
    assert second.json() == {"channel": "dev", "as_user": True, "thread_ts": "1700000000.0001", "text": MSG.subject}
    assert colored.json() == {"channel": "ops", "as_user": True,
                              "attachments": [{"color": "#f00", "text": MSG.subject}]}


def test_slack_ok_false_is_a_failure_naming_slacks_error_not_the_token():
    with HttpSink(Answer(json={"ok": False, "error": "channel_not_found"})) as sink:
        with pytest.raises(SendError) as failed:
            send("slack", {"token": "xoxb-secret-token", "channels": ["#nope"], "api_url": sink.url})
    assert "channel_not_found" in str(failed.value) and "xoxb" not in str(failed.value)


def test_webhook_posts_the_json_object_with_headers_basic_auth_and_user_agent():
    body = json.dumps({"id": 42, "name": "déploiement"})
    with HttpSink() as sink:
        config = {"url": sink.url + "/hook?x=1", "http_method": "PUT", "disable_ssl_verification": False,
                  "username": "hook", "password": "hook-pw-1", "headers": {"X-Custom": "yes"}}
        assert send("webhook", config, Message(subject="s", body=body)) == 1
        assert send("webhook", {**config, "http_method": "POST"}, Message(subject="s", body="not json")) == 1
    put, post = sink.requests
    assert (put.method, put.path, put.query) == ("PUT", "/hook", {"x": ["1"]})
    assert put.headers["content-type"] == "application/json" and put.headers["x-custom"] == "yes"
    assert put.headers["user-agent"] == UA
    assert put.headers["authorization"] == "Basic " + base64.b64encode(b"hook:hook-pw-1").decode()
    assert put.body == json.dumps({"id": 42, "name": "déploiement"}, ensure_ascii=False).encode()
    assert (post.method, post.json()) == ("POST", {})


def test_webhook_follows_301_and_307_keeping_method_and_body():
    with HttpSink() as sink:
        sink.answer_path("/old", Answer(status=301, headers={"Location": "/mid"}))
        sink.answer_path("/mid", Answer(status=307, headers={"Location": sink.url + "/new"}))
        config = {"url": sink.url + "/old", "http_method": "POST", "headers": {}}
        assert send("webhook", config, Message(subject="s", body={"a": 1})) == 1
    assert [(r.method, r.path, r.json()) for r in sink.requests] == [
        ("POST", "/old", {"a": 1}), ("POST", "/mid", {"a": 1}), ("POST", "/new", {"a": 1})]


def test_webhook_http_500_refused_method_and_dead_endpoint_fail_without_secrets():
    with HttpSink(Answer(status=500)) as sink:
        with pytest.raises(SendError, match="^Error sending webhook notification: 500$"):
            send("webhook", {"url": sink.url, "headers": {"Authorization": "Bearer hdr-secret-1"}})
    with pytest.raises(SendError, match="must be either 'POST' or 'PUT'"):
        send("webhook", {"url": sink.url, "http_method": "GET", "headers": {}})
    dead = f"http://user:url-secret-1@127.0.0.1:{free_port()}/path?token=tok-secret-1"
    with pytest.raises(SendError) as failed:
        send("webhook", {"url": dead, "password": "pw-secret-1", "headers": {}})
    text = str(failed.value)
    assert "connection refused" in text and "127.0.0.1" in text
    assert not any(s in text for s in ("url-secret-1", "tok-secret-1", "pw-secret-1", "/path"))


def test_http_timeout_is_bounded_by_the_message_timeout():
    with HttpSink(Answer(delay=3.0)) as sink:
        started = time.monotonic()
        with pytest.raises(SendError, match="timed out after 1 s"):
            send("teams", {"webhook_url": sink.url + "/flow?sig=abc"},
                 Message(subject="s", body="", timeout=1.0))
        assert time.monotonic() - started < 2.5


def test_mattermost_and_rocketchat_post_the_subject_with_their_options():
    with HttpSink() as sink:
        assert send("mattermost", {"mattermost_url": sink.url + "/hooks/abc", "mattermost_no_verify_ssl": False,
                                   "mattermost_channel": " town ", "mattermost_username": "turret",
                                   "mattermost_icon_url": "https://i/x.png"}) == 1
        assert send("rocketchat", {"rocketchat_url": sink.url + "/hooks/rc", "rocketchat_no_verify_ssl": False,
                                   "rocketchat_username": "turret"}) == 1
    mm, rc = sink.requests
    assert (mm.method, mm.path, mm.headers["content-type"]) == ("POST", "/hooks/abc", "application/json")
    assert mm.json() == {"icon_url": "https://i/x.png", "channel": "town", "username": "turret", "text": MSG.subject}
    assert (rc.path, rc.headers["user-agent"], rc.json()) == ("/hooks/rc", UA,
                                                              {"text": MSG.subject, "username": "turret"})
    with HttpSink(Answer(status=404)) as sink:
        with pytest.raises(SendError, match="^Error sending notification mattermost: 404$"):
            send("mattermost", {"mattermost_url": sink.url, "mattermost_no_verify_ssl": False})


def test_grafana_posts_an_annotation_region_from_started_to_finished():
    with HttpSink() as sink:
        config = {"grafana_url": sink.url + "/", "grafana_key": "glsa_key", "dashboardId": 3, "panelId": 7,
                  "annotation_tags": ["ansible", "turret"]}
        assert send("grafana", config, Message(subject="Job 42 failed", body=json.dumps(METADATA))) == 1
    req = sink.last
    assert (req.method, req.path, req.headers["authorization"]) == ("POST", "/api/annotations", "Bearer glsa_key")
    assert req.json() == {"time": 1796432400000, "timeEnd": 1796432430500, "isRegion": True, "dashboardId": 3,
                          "panelId": 7, "tags": ["ansible", "turret"], "text": "Job 42 failed"}


def test_pagerduty_triggers_an_events_v1_incident():
    with HttpSink(Answer(json={"status": "success", "incident_key": "k"})) as sink:
        config = {"subdomain": "acme", "token": "pd-token", "service_key": "svc-key", "client_name": "Turret",
                  "api_url": sink.url}
        assert send("pagerduty", config, Message(subject="Job 42 failed", body=json.dumps(METADATA))) == 1
    assert (sink.last.method, sink.last.path) == ("POST", "/generic/2010-04-15/create_event.json")
    assert sink.last.json() == {"service_key": "svc-key", "event_type": "trigger", "description": "Job 42 failed",
                                "details": METADATA, "client": "Turret"}
    with HttpSink(Answer(status=400, json={"status": "invalid event", "message": "Event object is invalid"})) as s:
        with pytest.raises(SendError, match="400 Event object is invalid"):
            send("pagerduty", {**config, "api_url": s.url})


def test_twilio_sends_one_form_post_per_number_with_basic_auth():
    with HttpSink(Answer(status=201, json={"sid": "SM1"})) as sink:
        config = {"account_sid": "AC123", "account_token": "tw-token", "from_number": "+15550001",
                  "to_numbers": ["+15550002", "+15550003"], "api_url": sink.url}
        assert send("twilio", config) == 2
    first, second = sink.requests
    assert (first.method, first.path) == ("POST", "/2010-04-01/Accounts/AC123/Messages.json")
    assert first.headers["authorization"] == "Basic " + base64.b64encode(b"AC123:tw-token").decode()
    assert first.headers["content-type"] == "application/x-www-form-urlencoded; charset=utf-8"
    assert first.form() == {"To": ["+15550002"], "From": ["+15550001"], "Body": [MSG.subject]}
    assert second.form()["To"] == ["+15550003"]


def test_sigv4_matches_the_aws_test_suite_vector():
    headers = sigv4_headers("GET", "https://example.amazonaws.com/", b"", {}, region="us-east-1", service="service",
                            access_key="AKIDEXAMPLE", secret_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                            now=datetime(2015, 8, 30, 12, 36, tzinfo=timezone.utc))
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")


def test_awssns_publishes_a_signed_form_request():
    with HttpSink(Answer(body=b"<PublishResponse/>")) as sink:
        config = {"aws_region": "", "aws_access_key_id": "AKIDTEST", "aws_secret_access_key": "sns-secret-key",
                  "aws_session_token": "sess-token", "sns_topic_arn": "arn:aws:sns:eu-west-1:123456789012:ops",
                  "api_url": sink.url}
        assert send("awssns", config, Message(subject="s", body=json.dumps(METADATA))) == 1
    req = sink.last
    assert (req.method, req.path) == ("POST", "/")
    assert req.form() == {"Action": ["Publish"], "Version": ["2010-03-31"],
                          "TopicArn": ["arn:aws:sns:eu-west-1:123456789012:ops"], "Message": [json.dumps(METADATA)]}
    assert req.headers["x-amz-security-token"] == "sess-token"
    auth = req.headers["authorization"]
    assert auth.startswith(f"AWS4-HMAC-SHA256 Credential=AKIDTEST/{req.headers['x-amz-date'][:8]}/eu-west-1/sns/"
                           "aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=")
    # the receiver recomputes the signature from what it received
    again = sigv4_headers("POST", sink.url + "/", req.body, {"Content-Type": req.headers["content-type"]},
                          region="eu-west-1", service="sns", access_key="AKIDTEST", secret_key="sns-secret-key",
                          session_token="sess-token", now=datetime.strptime(
                              req.headers["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc))
    assert again["Authorization"] == auth
    refusal = (b"<ErrorResponse><Error><Code>InvalidClientTokenId</Code>"
               b"<Message>The security token is invalid</Message></Error></ErrorResponse>")
    with HttpSink(Answer(status=403, body=refusal)) as s:
        with pytest.raises(SendError, match="403 InvalidClientTokenId The security token is invalid"):
            send("awssns", {**config, "api_url": s.url})


def test_irc_connects_registers_joins_channels_messages_targets_and_quits():
    with IrcSink() as irc:
        config = {"server": "127.0.0.1", "port": irc.port, "nickname": "turretbot", "password": "irc-pw",
                  "use_ssl": False, "targets": ["#ops", "alice"]}
        assert send("irc", config, Message(subject="Job 42\nfailed", body="", timeout=2.0)) == 2
        assert irc.closed.wait(2)
    assert irc.lines == ["PASS irc-pw", "NICK turretbot", "USER turretbot 0 * :turretbot", "PONG :check",
                         "JOIN #ops", "PRIVMSG alice :Job 42 failed", "PRIVMSG #ops :Job 42 failed", "QUIT :done"]


def test_irc_nick_refused_and_dead_server_fail():
    with IrcSink(refuse_nick=True) as irc:
        with pytest.raises(SendError, match="433"):
            send("irc", {"server": "127.0.0.1", "port": irc.port, "nickname": "n", "password": "", "use_ssl": False,
                         "targets": ["#ops"]})
    with pytest.raises(SendError, match="connection refused"):
        send("irc", {"server": "127.0.0.1", "port": free_port(), "nickname": "n", "password": "",
                     "use_ssl": False, "targets": ["#ops"]})


# --- Turret's types --------------------------------------------------------------------------

def test_teams_posts_the_workflows_adaptive_card_envelope():
    with HttpSink(Answer(status=202)) as sink:
        assert send("teams", {"webhook_url": sink.url + "/workflows/abc/triggers/manual/paths/invoke?sig=s1"}) == 1
    req = sink.last
    assert (req.method, req.path, req.query["sig"]) == ("POST", "/workflows/abc/triggers/manual/paths/invoke",
                                                        ["s1"])
    assert req.headers["content-type"] == "application/json"
    assert req.json() == {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
        "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [{"type": "TextBlock", "text": MSG.subject, "weight": "Bolder", "wrap": True},
                             {"type": "TextBlock", "text": MSG.body, "wrap": True},
                             {"type": "FactSet", "facts": [{"title": "Status:", "value": "failed"}]}],
                    "actions": [{"type": "Action.OpenUrl", "title": "Open", "url": JOB_URL}]}}]}


def test_dingtalk_signature_with_a_fixed_timestamp_and_secret():
    secret, ts = "SECtest-secret-0123456789", 1700000000000
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    assert robots.dingtalk_sign(secret, ts) == quote_plus(base64.b64encode(digest).decode())
    assert robots.dingtalk_sign(secret, ts) == "loAs986iXlZUJyoAu2REiC16DMGrtdERSegy7jQ3Qtg%3D"
    with HttpSink(Answer(json={"errcode": 0, "errmsg": "ok"})) as sink:
        config = {"webhook_url": sink.url + "/robot/send?access_token=tok1", "secret": secret, "msgtype": "text",
                  "at_mobiles": ["13800000000"], "at_user_ids": ["u1"], "is_at_all": False}
        assert robots.send_dingtalk(config, MSG, clock=lambda: ts / 1000) == 1
    req = sink.last
    assert (req.method, req.path) == ("POST", "/robot/send")
    assert req.query == {"access_token": ["tok1"], "timestamp": [str(ts)],
                         "sign": [base64.b64encode(digest).decode()]}
    assert req.headers["content-type"] == "application/json"
    assert req.json() == {"msgtype": "text", "text": {"content": f"{MSG.subject}\n\n{MSG.body} @13800000000 @u1"},
                          "at": {"atMobiles": ["13800000000"], "atUserIds": ["u1"], "isAtAll": False}}


def test_dingtalk_markdown_unsigned_and_errcode_failure():
    with HttpSink(Answer(json={"errcode": 0, "errmsg": "ok"})) as sink:
        assert send("dingtalk", {"webhook_url": sink.url + "/robot/send?access_token=tok1", "msgtype": "markdown",
                                 "is_at_all": True}) == 1
    assert sink.last.query == {"access_token": ["tok1"]}
    assert sink.last.json() == {"msgtype": "markdown", "markdown": {
        "title": MSG.subject, "text": f"#### {MSG.subject}\n\n{MSG.body}\n\n[{JOB_URL}]({JOB_URL})"},
        "at": {"atMobiles": [], "atUserIds": [], "isAtAll": True}}
    with HttpSink(Answer(json={"errcode": 310000, "errmsg": "sign not match"})) as sink:
        with pytest.raises(SendError) as failed:
            send("dingtalk", {"webhook_url": sink.url + "/robot/send?access_token=tok-secret-9",
                              "secret": "SECsecret-9"})
    assert str(failed.value) == "dingtalk robot refused the message: errcode 310000: sign not match"


def test_wecom_text_with_mentions_markdown_and_errcode():
    with HttpSink(Answer(json={"errcode": 0, "errmsg": "ok"})) as sink:
        url = sink.url + "/cgi-bin/webhook/send?key=wk-1"
        assert send("wecom", {"webhook_url": url, "mentioned_list": ["wang", "@all"],
                              "mentioned_mobile_list": ["13800000000"]}) == 1
        assert send("wecom", {"webhook_url": url, "msgtype": "markdown", "mentioned_list": ["wang"]}) == 1
    text, markdown = sink.requests
    assert (text.method, text.path, text.query) == ("POST", "/cgi-bin/webhook/send", {"key": ["wk-1"]})
    assert text.json() == {"msgtype": "text", "text": {"content": f"{MSG.subject}\n\n{MSG.body}",
                                                       "mentioned_list": ["wang", "@all"],
                                                       "mentioned_mobile_list": ["13800000000"]}}
    assert markdown.json() == {"msgtype": "markdown", "markdown": {
        "content": f"**{MSG.subject}**\n{MSG.body}\n[{JOB_URL}]({JOB_URL})\n<@wang>"}}
    long = Message(subject="x", body="界" * 2000)
    with HttpSink(Answer(json={"errcode": 93000, "errmsg": "invalid webhook url"})) as sink:
        with pytest.raises(SendError, match="errcode 93000: invalid webhook url"):
            send("wecom", {"webhook_url": sink.url + "/send?key=k"}, long)
    assert len(sink.last.json()["text"]["content"].encode()) <= 2048


def test_telegram_send_message_per_chat_and_ok_false():
    with HttpSink(Answer(json={"ok": True, "result": {}})) as sink:
        config = {"bot_token": "123:tg-secret", "chat_ids": ["-100200", "@ops"], "parse_mode": "HTML",
                  "api_url": sink.url}
        assert send("telegram", config) == 2
    first, second = sink.requests
    assert (first.method, first.path) == ("POST", "/bot123:tg-secret/sendMessage")
    assert first.json() == {"chat_id": "-100200", "text": f"{MSG.subject}\n\n{MSG.body}", "parse_mode": "HTML"}
    assert second.json()["chat_id"] == "@ops"
    with HttpSink(Answer(status=400, json={"ok": False, "description": "Bad Request: chat not found"})) as sink:
        with pytest.raises(SendError) as failed:
            send("telegram", {**config, "api_url": sink.url})
    assert str(failed.value) == "Telegram could not send to chat -100200: Bad Request: chat not found"


def test_discord_content_is_cut_to_2000_and_the_body_goes_in_an_embed():
    with HttpSink(Answer(status=204)) as sink:
        long = Message(subject="s" * 2500, body="detail", url=JOB_URL, status="successful")
        assert send("discord", {"webhook_url": sink.url + "/api/webhooks/1/tok", "username": "Turret"}, long) == 1
    req = sink.last
    assert (req.method, req.path) == ("POST", "/api/webhooks/1/tok")
    payload = req.json()
    assert len(payload["content"]) == 2000 and payload["content"].endswith("…")
    assert payload["username"] == "Turret"
    assert payload["embeds"] == [{"title": "s" * 255 + "…", "color": 0x2EB67D, "description": "detail",
                                  "url": JOB_URL}]


@pytest.mark.parametrize("type_name,config", [
    ("teams", {"webhook_url": "{url}/flow?sig=teams-sig-secret"}),
    ("discord", {"webhook_url": "{url}/api/webhooks/1/discord-token-secret"}),
    ("wecom", {"webhook_url": "{url}/send?key=wecom-key-secret"}),
    ("telegram", {"bot_token": "42:telegram-token-secret", "chat_ids": ["1"], "api_url": "{url}"}),
    ("slack", {"token": "xoxb-slack-token-secret", "channels": ["#a"], "api_url": "{url}"}),
])
def test_http_500_and_connection_refused_never_show_the_secret(type_name, config):
    with HttpSink(Answer(status=500, body=b"oops")) as sink:
        live = {k: v.replace("{url}", sink.url) if isinstance(v, str) else v for k, v in config.items()}
        with pytest.raises(SendError) as failed:
            send(type_name, live)
    dead = {k: v.replace("{url}", f"http://127.0.0.1:{free_port()}") if isinstance(v, str) else v
            for k, v in config.items()}
    with pytest.raises(SendError) as refused:
        send(type_name, dead)
    for text in (str(failed.value), str(refused.value)):
        assert "secret" not in text, text
    assert "connection refused" in str(refused.value)


def test_webhook_url_credentials_become_basic_auth():
    with HttpSink() as sink:
        url = sink.url.replace("http://", "http://hook%40me:p%3Aw@") + "/in"
        assert send("webhook", {"url": url, "headers": {}}, Message(subject="s", body="{}")) == 1
    assert sink.last.path == "/in"
    assert sink.last.headers["authorization"] == "Basic " + base64.b64encode(b"hook@me:p:w").decode()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "smtps"])
def test_email_over_starttls_and_smtps_verifies_the_server(certificate, monkeypatch, implicit):
    config = {"use_tls": not implicit, "use_ssl": implicit, "username": "mailer", "password": "tls-pw"}
    with SmtpSink(users={"mailer": "tls-pw"}, certificate=certificate, implicit_tls=implicit) as smtp:
        with pytest.raises(SendError, match="TLS error|CERTIFICATE_VERIFY_FAILED"):
            send("email", email_config(smtp.port, **config))          # an untrusted certificate
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
        assert send("email", email_config(smtp.port, **config)) == 1
    assert smtp.encrypted == [True] and smtp.logins == ["mailer"]
    assert smtp.messages[0][2]["Subject"] == MSG.subject


def test_webhook_over_https_verifies_unless_disable_ssl_verification(certificate):
    with HttpSink(certificate=certificate) as sink:
        config = {"url": sink.url + "/tls", "headers": {}}
        with pytest.raises(SendError, match="TLS error"):
            send("webhook", config, Message(subject="s", body="{}"))
        assert send("webhook", {**config, "disable_ssl_verification": True}, Message(subject="s", body="{}")) == 1
    assert [r.path for r in sink.requests] == ["/tls"]


def test_redact_hides_secret_values_url_parts_and_header_values():
    config = {"webhook_url": "https://robot.example/robot/send?access_token=abcd1234efgh",
              "secret": "SECsigning", "headers": {"X-Token": "hdr-value-1"}}
    text = ("failed https://robot.example/robot/send?access_token=abcd1234efgh token abcd1234efgh "
            "secret SECsigning header hdr-value-1 host robot.example")
    assert redact(text, config, ("webhook_url", "secret")) == (
        "failed $encrypted$ token $encrypted$ secret $encrypted$ header $encrypted$ host robot.example")


def test_an_unexpected_sender_error_is_a_send_error_without_secrets():
    # a malformed configuration (headers not an object) breaks inside the sender
    with pytest.raises(SendError) as failed:
        send("webhook", {"url": "http://127.0.0.1:1/", "password": "pw-in-error", "headers": ["pw-in-error"]})
    assert failed.value.args[0].startswith("AttributeError") and "pw-in-error" not in str(failed.value)


def test_irc_over_tls(certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
    with IrcSink(certificate=certificate) as irc:
        config = {"server": "127.0.0.1", "port": irc.port, "nickname": "tlsbot", "password": "", "use_ssl": True,
                  "targets": ["bob"]}
        assert send("irc", config) == 1
        assert irc.closed.wait(2)
    assert irc.lines[-2:] == [f"PRIVMSG bob :{MSG.subject}", "QUIT :done"]
