"""VIP numbers, address books, devices, domain settings, call history, action history, summary,
finance — each against the real server with the demo domain."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from desktop.admin.widgets import dialogs
from desktop.api.client import PultClient
from desktop.qt import QtWidgets
from tests.ui.admin.conftest import fresh, settle


def type_into(form: Any, name: str, text: str) -> None:
    widget = form.widgets[name]
    assert isinstance(widget, QtWidgets.QLineEdit)
    widget.setText(text)
    widget.textEdited.emit(text)


def test_vip_crud(workspace: Any, api: PultClient, loop: asyncio.AbstractEventLoop) -> None:
    section = workspace.open("vip")
    settle(loop)
    assert section.model.total == 3
    section.new()
    type_into(section.form, "e164", "12ab")
    section.save()
    settle(loop)
    assert section.form.errors["e164"].text()
    type_into(section.form, "e164", "+79990001122")
    type_into(section.form, "comment", "Новый клиент")
    section.save()
    settle(loop)
    assert section.model.total == 4
    type_into(section.form, "comment", "Постоянный клиент")
    section.save()
    settle(loop)
    stored = fresh(loop, api, "/api/vip-numbers", q="79990001122")["items"]
    assert [v["comment"] for v in stored] == ["Постоянный клиент"]
    section.delete()
    settle(loop)
    assert fresh(loop, api, "/api/vip-numbers")["total"] == 3


def test_contacts_with_phones_and_groups(
    workspace: Any, api: PultClient, loop: asyncio.AbstractEventLoop
) -> None:
    section = workspace.open("contacts")
    settle(loop)
    assert section.model.total == 10
    section.group_name.setText("Партнёры")
    section.add_group()
    settle(loop)
    section.new()
    type_into(section.form, "name", "ООО «Ромб»")
    type_into(section.form, "phones", "рабочий nonsense")
    section.save()
    settle(loop)
    assert section.form.errors["phones"].text()
    type_into(section.form, "phones", "рабочий +74951230000, мобильный +79161230000")
    combo = section.form.widgets["group_id"]
    combo.setCurrentIndex(combo.findText("Партнёры"))
    section.save()
    settle(loop)
    made = fresh(loop, api, "/api/contacts", q="Ромб")["items"][0]
    assert {p["kind"] for p in made["phones"]} == {"work", "mobile"}
    section.delete()
    settle(loop)
    assert fresh(loop, api, "/api/contacts", q="Ромб")["total"] == 0


def test_contact_import_check_then_create(
    workspace: Any, api: PultClient, loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    section = workspace.open("contacts")
    settle(loop)
    path = tmp_path / "contacts.csv"
    path.write_text(
        "Имя;Группа;Быстрый набор;IP-телефон;Рабочий телефон;Мобильный телефон;Домашний телефон;"
        "Другой телефон\nООО «Импорт»;Клиенты;;;+74950001111;;;\n;;;;not-a-phone;;;\n",
        encoding="utf-8",
    )
    section.importer.load(path)
    settle(loop)
    assert section.importer.problems.rowCount() >= 1
    assert section.importer.create_button.isVisibleTo(section.importer)
    section.importer.create_rows()
    settle(loop)
    assert fresh(loop, api, "/api/contacts", q="Импорт")["total"] == 1


def test_devices_crud(workspace: Any, api: PultClient, loop: asyncio.AbstractEventLoop) -> None:
    section = workspace.open("devices")
    settle(loop)
    section.new()
    settle(loop)
    type_into(section.form, "mac", "zz")
    type_into(section.form, "serial", "SN1")
    section.save()
    settle(loop)
    assert section.form.errors["mac"].text()
    type_into(section.form, "mac", "00:15:65:AA:BB:CC")
    type_into(section.form, "model", "Yealink T46")
    section.save()
    settle(loop)
    assert fresh(loop, api, "/api/devices")["total"] == 1
    type_into(section.form, "model", "Yealink T48")
    section.save()
    settle(loop)
    assert fresh(loop, api, "/api/devices")["items"][0]["model"] == "Yealink T48"
    section.delete()
    settle(loop)
    assert fresh(loop, api, "/api/devices")["total"] == 0


def test_domain_settings(workspace: Any, api: PultClient, loop: asyncio.AbstractEventLoop) -> None:
    section = workspace.open("domain")
    settle(loop)
    assert "demo.pult" in section.info.text()
    type_into(section.form, "timezone", "Mars/Olympus")
    section.save()
    settle(loop)
    assert section.form.errors["timezone"].text()
    type_into(section.form, "timezone", "Asia/Yekaterinburg")
    section.save()
    settle(loop)
    assert fresh(loop, api, "/api/domain")["timezone"] == "Asia/Yekaterinburg"


def add_cdrs(db: Session, count: int) -> None:
    from server_stub.store.models import Domain
    from server_stub.store.models_calls import Cdr

    domain = db.query(Domain).filter_by(name="demo.pult").one()
    now = datetime.now(UTC)
    db.add_all(
        Cdr(
            call_id=f"call-{i}",
            domain_id=domain.id,
            direction="incoming",
            caller=f"+7916000{i:04d}",
            called="+74951234567",
            started_at=now - timedelta(minutes=i),
            duration_seconds=i,
            result="answered" if i % 2 else "missed",
            trace=[["Номер найден", "Number found"]],
        )
        for i in range(count)
    )
    db.commit()


def test_call_history_filters_trace_and_export(
    workspace: Any, demo: Session, loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    add_cdrs(demo, 450)
    section = workspace.open("cdrs")
    settle(loop)
    assert section.model.total == 450
    assert section.model.rowCount() == 200  # lazily: the first page only
    section.model.fetchMore()
    settle(loop)
    assert section.model.rowCount() == 400
    section.table.selectRow(0)
    assert "Номер найден" in section.trace.toPlainText()
    section.result.setCurrentIndex(section.result.findData("missed"))
    section.apply_filters()
    settle(loop)
    assert section.model.total == 225
    section.preset.setCurrentIndex(section.preset.findData(0))  # today
    settle(loop)
    assert 0 < section.model.total <= 225

    section.result.setCurrentIndex(0)
    section.preset.setCurrentIndex(section.preset.findData(45))
    settle(loop)
    dialogs.next_file = str(tmp_path / "calls.csv")
    section.export("csv")
    settle(loop)
    with (tmp_path / "calls.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert len(rows) == 451
    dialogs.next_file = str(tmp_path / "calls.xlsx")
    section.export("xlsx")
    settle(loop)
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "calls.xlsx").worksheets[0]
    assert sheet.max_row == 451


def test_action_history_shows_changes(
    workspace: Any, api: PultClient, loop: asyncio.AbstractEventLoop
) -> None:
    loop.run_until_complete(
        api.request("POST", "/api/vip-numbers", json={"e164": "+79990002233", "priority": 1})
    )
    section = workspace.open("audit")
    settle(loop)
    assert section.model.total >= 1
    section.object_name.setText("+79990002233")
    section.apply_filters()
    settle(loop)
    assert section.model.total == 1
    section.table.selectRow(0)
    assert "+79990002233" in section.details.toPlainText()


def test_summary_and_finance(workspace: Any, loop: asyncio.AbstractEventLoop) -> None:
    summary = workspace.current()
    assert summary.key == "summary"
    settle(loop)
    assert "₽" in summary.headline.text()
    summary.findChild(QtWidgets.QPushButton, "link-finance").click()
    settle(loop)
    finance = workspace.current()
    assert finance.key == "finance"
    assert "₽" in finance.account_label.text()
    type_into(finance.money, "credit_limit", "-5")
    finance.set_credit()
    settle(loop)
    assert finance.money.errors["credit_limit"].text()


def test_finance_promised_payment_and_a_service_on_and_off(
    workspace: Any, api: PultClient, loop: asyncio.AbstractEventLoop
) -> None:
    finance = workspace.open("finance")
    settle(loop)
    # A promised payment is credited: it is in the payment history and on the account line.
    type_into(finance.money, "promised", "500")
    finance.take_promised()
    settle(loop)
    payments = loop.run_until_complete(api.request("GET", "/api/billing/payments"))["items"]
    assert [Decimal(p["amount"]) for p in payments] == [Decimal("500.00")]
    assert "Обещанный платёж 500.00" in finance.account_label.text()
    # A second one before a top-up is refused with the manual's message, shown at the field.
    type_into(finance.money, "promised", "100")
    finance.take_promised()
    settle(loop)
    assert "не закрыт обещанный платеж" in finance.money.errors["promised"].text()
    # A service: the quote is confirmed, the service is on; then off again.
    codes = [s["code"] for s in finance.service_rows]
    row = next(i for i, s in enumerate(finance.service_rows) if not s["enabled"])
    code = codes[row]
    finance.services.selectRow(row)
    finance.set_service()
    settle(loop)
    assert any("Подтвердить" in q for q in dialogs.asked)
    assert next(s for s in finance.service_rows if s["code"] == code)["enabled"] is True
    finance.services.selectRow(codes.index(code))
    finance.disable_service()
    settle(loop)
    assert next(s for s in finance.service_rows if s["code"] == code)["enabled"] is False
    assert "отключена" in finance.status.text()
