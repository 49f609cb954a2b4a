"""«Simulate a call»: the server's route trace for a chosen caller, number and moment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from desktop.admin.widgets import tasks
from desktop.admin.widgets.form import Field, Form
from desktop.admin.widgets.section import Section
from desktop.api.client import ApiError, PultClient, ServerUnreachable
from desktop.common.i18n import tr
from desktop.qt import QtCore, QtWidgets


def render_decision(decision: dict[str, Any]) -> str:
    lines = []
    if decision.get("refused"):
        r = decision["refused"]
        lines.append(
            tr("Вызов отклонён: {0} {1}").format(r.get("sip_code") or "", r.get("reason") or "")
        )
    else:
        lines.append(tr("Вызов принят"))
    for i, stage in enumerate(decision.get("stages", []), start=1):
        branches = ", ".join(
            f"{b.get('label') or b.get('uri')} ({b.get('ring_seconds')} {tr('с')})"
            for b in stage.get("branches", [])
        )
        lines.append(
            tr("Этап {0}: {1} — {2}, до {3} с").format(
                i, stage.get("label") or "", branches, stage.get("timeout_seconds")
            )
        )
    for key, title in (("on_no_answer", tr("Если не ответили")), ("on_busy", tr("Если занято"))):
        final = decision.get(key)
        if final:
            lines.append(f"{title}: {final.get('action')} {final.get('uri') or ''}".strip())
    lines.append("")
    lines.append(tr("Трасса маршрута:"))
    lines += [f"  • {line}" for line in decision.get("trace", [])]
    return "\n".join(lines)


class SimulateSection(Section):
    key = "simulate"

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(client, parent)
        self.form = Form(
            [
                Field(
                    "caller",
                    self.tr("Кто звонит (номер или внутренний)"),
                    placeholder="+79161112233",
                ),
                Field(
                    "called",
                    self.tr("Куда звонят (наш номер или набранные цифры)"),
                    placeholder="+74951234567",
                ),
                Field(
                    "source",
                    self.tr("Откуда вызов"),
                    "choice",
                    default="trunk",
                    choices=[
                        ("trunk", self.tr("Из города (через оператора связи)")),
                        ("user", self.tr("От сотрудника домена")),
                    ],
                ),
            ]
        )
        self.moment = QtWidgets.QDateTimeEdit(QtCore.QDateTime.currentDateTime())
        self.moment.setObjectName("field-at")
        self.moment.setCalendarPopup(True)
        self.moment.setDisplayFormat("dd.MM.yyyy HH:mm")
        self.at_error = QtWidgets.QLabel()
        self.at_error.setObjectName("error-at")
        self.form.attach_error("at", self.at_error)
        run = QtWidgets.QPushButton(self.tr("Проверить маршрут"))
        run.setObjectName("simulate")
        run.clicked.connect(self.simulate)
        self.result = QtWidgets.QPlainTextEdit()
        self.result.setObjectName("trace")
        self.result.setReadOnly(True)
        moment_row = QtWidgets.QHBoxLayout()
        moment_row.addWidget(QtWidgets.QLabel(self.tr("Момент вызова")))
        moment_row.addWidget(self.moment)
        moment_row.addWidget(run)
        moment_row.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        heading = QtWidgets.QLabel(
            self.tr("Что произойдёт с вызовом: сервер строит маршрут, ничего не меняя.")
        )
        heading.setWordWrap(True)
        layout.addWidget(heading)
        layout.addWidget(self.form)
        layout.addLayout(moment_row)
        layout.addWidget(self.at_error)
        layout.addWidget(self.result, 1)
        layout.addWidget(self.status)
        self.decision: dict[str, Any] | None = None

    def title(self) -> str:
        return self.tr("Проверка маршрута")

    def simulate(self) -> None:
        tasks.start(self._simulate(), self.form.show_error)

    async def _simulate(self) -> None:
        self.form.clear_errors()
        at = self.moment.dateTime().toPython()
        if isinstance(at, datetime):
            # The moment is the admin's local wall clock; the server wants an aware instant.
            at = at.astimezone().astimezone(UTC)
        body = {**self.form.values(), "at": at.isoformat() if isinstance(at, datetime) else None}
        try:
            self.decision = await self.client.request("POST", "/api/routing/simulate", json=body)
        except (ApiError, ServerUnreachable) as exc:
            self.form.show_error(exc)
            return
        self.result.setPlainText(render_decision(self.decision))
