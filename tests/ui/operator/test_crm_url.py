"""The CRM address template (desktop/operator/crm.py): pure, no Qt, no server."""

from __future__ import annotations

from desktop.operator.crm import PLACEHOLDERS, render_crm_url
from desktop.operator.texts import duration

VALUES = {
    "caller": "+7 (495) 111-22-33",
    "called": "+74957654321",
    "call_id": "a1b2@edge/1",
    "operator": "popov",
    "group": "12",
    "campaign": "Весна 2030",
    "client_id": "42&admin=1",
}


def test_every_placeholder_is_filled_and_url_encoded() -> None:
    template = "https://crm.example/card?" + "&".join(f"{p}={{{p}}}" for p in PLACEHOLDERS)
    assert render_crm_url(template, VALUES) == (
        "https://crm.example/card?caller=%2B7%20%28495%29%20111-22-33&called=%2B74957654321"
        "&call_id=a1b2%40edge%2F1&operator=popov&group=12"
        "&campaign=%D0%92%D0%B5%D1%81%D0%BD%D0%B0%202030&client_id=42%26admin%3D1"
    )


def test_a_value_cannot_add_parameters_or_placeholders() -> None:
    url = render_crm_url("https://crm/x?id={client_id}&c={caller}", {"client_id": "{caller}"})
    assert url == "https://crm/x?id=%7Bcaller%7D&c="


def test_unknown_placeholders_stay_and_missing_values_are_empty() -> None:
    url = render_crm_url("https://crm/{group}/{grup}?who={operator}", {"group": "7"})
    assert url == "https://crm/7/{grup}?who="


def test_durations_read_as_clock_times() -> None:
    assert [duration(s) for s in (0, 5, 75, 3725, -3)] == [
        "0:00",
        "0:05",
        "1:15",
        "1:02:05",
        "0:00",
    ]
