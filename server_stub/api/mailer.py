"""Outgoing e-mail over SMTP (settings ``smtp_*``): password-reset links and the like."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from server_stub.settings import Settings


def send(settings: Settings, to: str, subject: str, body: str) -> None:
    """Send one plain-text message; raises ``OSError``/``smtplib.SMTPException`` on failure."""
    msg = EmailMessage()
    msg["From"] = settings.smtp_sender
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(msg)
