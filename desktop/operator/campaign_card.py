"""The outbound campaign card of the operator workstation (spec 02 §13).

What the operator does here: choose a campaign of their group and start («Начать обзвон» puts
them in the «Исходящая кампания» state), see the client's card (name, numbers, notes, the
campaign's page, attempts so far), press «Позвонить», pick the result status after the call
(optionally a callback time) and go on to the next card.

The card never dials itself: «Позвонить» records the attempt on the server, which answers with
the numbers to dial now (one for sequential dialling, all of them for parallel), and each
number leaves through :attr:`CampaignCard.dial_requested`; the workspace hands it to the
softphone. The attempt rings for 20 s: when that passes with no answer the card asks for the
call to end (:attr:`hangup_requested`), and the same when the maximum talk time runs out. What
the attempt gave (answered, no answer, busy, failed) is read back from the server, which takes
it from the call records of the SIP edge; a workspace that knows how the call ended may tell the
server through :meth:`report_outcome`.

Every request runs on the qasync loop through ``desktop.operator.tasks`` (the GUI never waits).
"""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from desktop.api.client import ApiError, PultClient, ServerUnreachable
from desktop.common import i18n
from desktop.operator import tasks
from desktop.qt import QtCore, QtWidgets, Signal

QWidget = QtWidgets.QWidget

OUTCOMES = {
    "in_progress": "идёт",
    "answered": "ответил",
    "no_answer": "нет ответа",
    "busy": "занято",
    "failed": "не удалось",
}
POLL_MS = 2000  # while an attempt runs: its outcome comes from the server's call records

ENGLISH: dict[str, str] = {
    "Кампания:": "Campaign:",
    "Начать обзвон": "Start calling",
    "Завершить обзвон": "Stop calling",
    "Следующая карточка": "Next card",
    "Позвонить": "Dial",
    "Положить трубку": "Hang up",
    "Сохранить результат": "Save the result",
    "Результат:": "Result:",
    "Перезвонить": "Call back",
    "Комментарий": "Comment",
    "Нет кампаний для вашей группы": "No campaigns for your group",
    "Выберите кампанию и нажмите «Начать обзвон»": "Choose a campaign and press «Start calling»",
    "Карточек для обзвона сейчас нет": "There are no cards to call now",
    "Нажмите «Следующая карточка»": "Press «Next card»",
    "Номера: {0}": "Numbers: {0}",
    "Попыток осталось: {0}": "Attempts left: {0}",
    "Перезвон: {0}": "Callback: {0}",
    "Страница кампании": "Campaign page",
    "Время": "Time",
    "Номера": "Numbers",
    "Итог": "Outcome",
    "Звоню {0}… осталось {1} с": "Dialling {0}… {1} s left",
    "Разговор: осталось {0}": "Talking: {0} left",
    "Выполнено {0} из {1} · в работе {2} · осталось {3}": (
        "Done {0} of {1} · on screens {2} · remaining {3}"
    ),
    "Сервер недоступен: {0}": "The server is unreachable: {0}",
    "Не удалось выполнить: {0}": "Could not do it: {0}",
    "идёт": "in progress",
    "ответил": "answered",
    "нет ответа": "no answer",
    "занято": "busy",
    "не удалось": "failed",
    "Начальное состояние": "Initial state",
    "Успешный вызов": "Successful call",
    "Нет ответа": "No answer",
}
for _source, _english in ENGLISH.items():
    i18n.ENGLISH.setdefault(_source, _english)


def _local(iso: str | None) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone().strftime("%d.%m %H:%M:%S")


def _seconds_until(iso: str | None) -> float | None:
    if not iso:
        return None
    return (datetime.fromisoformat(iso) - datetime.now(UTC)).total_seconds()


class CampaignCard(QtWidgets.QWidget):
    """One client card of an outbound campaign; ``dial_requested`` carries the number to dial."""

    dial_requested = Signal(str)
    hangup_requested = Signal()
    view_changed = Signal()  # after every answer of the server (tests and the workspace wait)

    def __init__(self, client: PultClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("campaign-card")
        self.client = client
        self.view: dict[str, Any] = {}
        self.attempt: dict[str, Any] | None = None  # the attempt this window dialled
        self._asked_hangup = False

        self.campaigns = QtWidgets.QComboBox()
        self.campaigns.setObjectName("campaign-choice")
        self.start_button = QtWidgets.QPushButton(self.tr("Начать обзвон"))
        self.start_button.setObjectName("campaign-start")
        self.start_button.clicked.connect(self._toggle)
        self.progress_label = QtWidgets.QLabel()
        self.progress_label.setObjectName("campaign-progress")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel(self.tr("Кампания:")))
        top.addWidget(self.campaigns, 1)
        top.addWidget(self.start_button)

        self.hint = QtWidgets.QLabel(self.tr("Выберите кампанию и нажмите «Начать обзвон»"))
        self.hint.setObjectName("campaign-hint")
        self.hint.setWordWrap(True)
        self.name_label = QtWidgets.QLabel()
        self.name_label.setObjectName("campaign-client")
        font = self.name_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.name_label.setFont(font)
        self.numbers_label = QtWidgets.QLabel()
        self.numbers_label.setObjectName("campaign-numbers")
        self.numbers_label.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.notes_label = QtWidgets.QLabel()
        self.notes_label.setObjectName("campaign-notes")
        self.notes_label.setWordWrap(True)
        self.attempts_label = QtWidgets.QLabel()
        self.callback_label = QtWidgets.QLabel()
        self.link = QtWidgets.QLabel()
        self.link.setObjectName("campaign-link")
        self.link.setOpenExternalLinks(True)

        self.history = QtWidgets.QTableWidget(0, 3)
        self.history.setObjectName("campaign-attempts")
        self.history.setHorizontalHeaderLabels(
            [self.tr("Время"), self.tr("Номера"), self.tr("Итог")]
        )
        self.history.horizontalHeader().setStretchLastSection(True)
        self.history.verticalHeader().setVisible(False)
        self.history.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)

        self.dial_button = QtWidgets.QPushButton(self.tr("Позвонить"))
        self.dial_button.setObjectName("campaign-dial")
        self.dial_button.clicked.connect(self.dial)
        self.call_label = QtWidgets.QLabel()
        self.call_label.setObjectName("campaign-call")

        self.result = QtWidgets.QComboBox()
        self.result.setObjectName("campaign-result")
        self.callback_check = QtWidgets.QCheckBox(self.tr("Перезвонить"))
        self.callback_check.setObjectName("campaign-callback")
        self.callback_time = QtWidgets.QDateTimeEdit()
        self.callback_time.setObjectName("campaign-callback-time")
        self.callback_time.setCalendarPopup(True)
        self.callback_time.setDisplayFormat("dd.MM.yyyy HH:mm")
        self.callback_time.setEnabled(False)
        self.callback_check.toggled.connect(self.callback_time.setEnabled)
        self.comment = QtWidgets.QLineEdit()
        self.comment.setObjectName("campaign-comment")
        self.comment.setPlaceholderText(self.tr("Комментарий"))
        self.save_button = QtWidgets.QPushButton(self.tr("Сохранить результат"))
        self.save_button.setObjectName("campaign-save")
        self.save_button.clicked.connect(self.save_result)
        self.next_button = QtWidgets.QPushButton(self.tr("Следующая карточка"))
        self.next_button.setObjectName("campaign-next")
        self.next_button.clicked.connect(self.next_card)
        self.error_label = QtWidgets.QLabel()
        self.error_label.setObjectName("campaign-error")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020")

        card_box = QtWidgets.QGroupBox()
        card_layout = QtWidgets.QVBoxLayout(card_box)
        for widget in (
            self.name_label,
            self.numbers_label,
            self.notes_label,
            self.attempts_label,
            self.callback_label,
            self.link,
        ):
            card_layout.addWidget(widget)
        dial_row = QtWidgets.QHBoxLayout()
        dial_row.addWidget(self.dial_button)
        dial_row.addWidget(self.call_label, 1)
        card_layout.addLayout(dial_row)
        card_layout.addWidget(self.history, 1)
        form = QtWidgets.QFormLayout()
        form.addRow(self.tr("Результат:"), self.result)
        callback_row = QtWidgets.QHBoxLayout()
        callback_row.addWidget(self.callback_check)
        callback_row.addWidget(self.callback_time, 1)
        form.addRow(callback_row)
        form.addRow(self.comment)
        card_layout.addLayout(form)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        card_layout.addLayout(buttons)
        self.card_box = card_box

        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.hint)
        layout.addWidget(card_box, 1)
        layout.addWidget(self.error_label)

        self.poll = QtCore.QTimer(self)
        self.poll.setInterval(POLL_MS)
        self.poll.timeout.connect(self.reload)
        self.ticker = QtCore.QTimer(self)
        self.ticker.setInterval(500)
        self.ticker.timeout.connect(self._tick)
        self._show({})
        QtCore.QTimer.singleShot(0, self.reload)

    # -- requests ---------------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.error_label.clear()
        tasks.start(coro, self._failed)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ServerUnreachable):
            self.error_label.setText(self.tr("Сервер недоступен: {0}").format(exc.url))
        elif isinstance(exc, ApiError):
            self.error_label.setText(exc.message or str(exc.status))
        else:
            self.error_label.setText(self.tr("Не удалось выполнить: {0}").format(exc))

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        view = await self.client.request(method, path, **kwargs)
        assert isinstance(view, dict)
        self._show(view)
        return view

    def reload(self) -> None:
        if self.client.session is None:
            return
        self._run(self._call("GET", "/api/operator/campaign"))

    def start_campaign(self, campaign_id: int) -> None:
        self._run(self._start(campaign_id))

    async def _start(self, campaign_id: int) -> None:
        view = await self._call(
            "POST", "/api/operator/campaign/start", json={"campaign_id": campaign_id}
        )
        if view.get("in_campaign") and view.get("card") is None:
            await self._call("POST", "/api/operator/campaign/next")

    def stop_campaign(self) -> None:
        self._run(self._call("POST", "/api/operator/campaign/stop"))

    def next_card(self) -> None:
        self._run(self._next())

    async def _next(self) -> None:
        view = await self._call("POST", "/api/operator/campaign/next")
        if view.get("card") is None:
            self.hint.setText(view.get("message") or self.tr("Карточек для обзвона сейчас нет"))

    def dial(self) -> None:
        """Record an attempt and ask the softphone to dial the numbers the server names."""
        self._run(self._dial())

    async def _dial(self) -> None:
        view = await self._call("POST", "/api/operator/campaign/attempts")
        attempt = view.get("attempt")
        if not attempt:
            return
        self.attempt = attempt
        self._asked_hangup = False
        self.poll.start()
        self.ticker.start()
        self._tick()
        for number in attempt["numbers"]:
            self.dial_requested.emit(number)

    def report_outcome(self, outcome: str) -> None:
        """How the softphone saw the call end (answered / no_answer / busy / failed)."""
        if self.attempt is None:
            return
        attempt_id = self.attempt["id"]
        self._run(
            self._call(
                "POST",
                f"/api/operator/campaign/attempts/{attempt_id}/finish",
                json={"outcome": outcome},
            )
        )

    def save_result(self) -> None:
        status_id = self.result.currentData()
        if status_id is None:
            return
        body: dict[str, Any] = {"status_id": status_id, "comment": self.comment.text()}
        if self.callback_check.isChecked():
            secs = self.callback_time.dateTime().toSecsSinceEpoch()
            body["callback_at"] = datetime.fromtimestamp(secs, UTC).isoformat()
        self._run(self._save(body))

    async def _save(self, body: dict[str, Any]) -> None:
        await self._call("POST", "/api/operator/campaign/result", json=body)
        self.attempt = None
        self.comment.clear()
        self.callback_check.setChecked(False)
        await self._next()

    def _toggle(self) -> None:
        if self.view.get("in_campaign"):
            self.stop_campaign()
            return
        campaign_id = self.campaigns.currentData()
        if campaign_id is not None:
            self.start_campaign(int(campaign_id))

    # -- showing ----------------------------------------------------------------------------

    def _current_attempt(self) -> dict[str, Any] | None:
        card = self.view.get("card") or {}
        attempts = card.get("attempts") or []
        if self.attempt is None:
            return None
        return next((a for a in attempts if a["id"] == self.attempt["id"]), None)

    def _tick(self) -> None:
        """The ring countdown, then the talk-time countdown; asks to hang up when either ends."""
        shown = self._current_attempt()
        if self.attempt is None or shown is None:
            self.call_label.clear()
            self.ticker.stop()
            return
        numbers = ", ".join(self.attempt["numbers"])
        if shown["outcome"] == "in_progress":
            left = _seconds_until(self.attempt["ring_until"]) or 0.0
            self.call_label.setText(
                self.tr("Звоню {0}… осталось {1} с").format(numbers, max(0, round(left)))
            )
            if left <= 0 and not self._asked_hangup:
                self._asked_hangup = True
                self.hangup_requested.emit()
            return
        if shown["outcome"] == "answered" and shown.get("talk_until"):
            self.poll.stop()  # an answered attempt stays answered; only the talk time runs
            left = _seconds_until(shown["talk_until"]) or 0.0
            minutes, secs = divmod(max(0, int(left)), 60)
            self.call_label.setText(
                self.tr("Разговор: осталось {0}").format(f"{minutes}:{secs:02d}")
            )
            if left <= 0 and not self._asked_hangup:
                self._asked_hangup = True
                self.hangup_requested.emit()
            return
        self.call_label.setText(self.tr(OUTCOMES.get(shown["outcome"], shown["outcome"])))
        self.ticker.stop()
        self.poll.stop()

    def _show(self, view: dict[str, Any]) -> None:
        self.view = view
        in_campaign = bool(view.get("in_campaign"))
        campaign = view.get("campaign") or {}
        card = view.get("card")

        chosen = self.campaigns.currentData()
        self.campaigns.blockSignals(True)
        self.campaigns.clear()
        for item in view.get("available") or []:
            self.campaigns.addItem(item["name"], item["id"])
        wanted = campaign.get("id") if in_campaign else chosen
        index = self.campaigns.findData(wanted) if wanted is not None else -1
        if index >= 0:
            self.campaigns.setCurrentIndex(index)
        self.campaigns.blockSignals(False)
        self.campaigns.setEnabled(not in_campaign)
        self.start_button.setText(
            self.tr("Завершить обзвон") if in_campaign else self.tr("Начать обзвон")
        )
        self.start_button.setEnabled(in_campaign or self.campaigns.count() > 0)

        progress = campaign.get("progress") if in_campaign else None
        if progress:
            self.progress_label.setText(
                self.tr("Выполнено {0} из {1} · в работе {2} · осталось {3}").format(
                    progress["done"],
                    progress["total"],
                    progress["in_progress"],
                    progress["remaining"],
                )
            )
        else:
            self.progress_label.clear()

        if not in_campaign:
            self.hint.setText(
                self.tr("Выберите кампанию и нажмите «Начать обзвон»")
                if self.campaigns.count()
                else self.tr("Нет кампаний для вашей группы")
            )
        elif card is None:
            self.hint.setText(self.tr("Нажмите «Следующая карточка»"))
        self.hint.setVisible(card is None)
        self.card_box.setVisible(in_campaign)
        self.next_button.setEnabled(in_campaign and card is None)

        self.result.clear()
        for status in campaign.get("statuses") or []:
            self.result.addItem(self.tr(status["name"]), status["id"])

        if card is None:
            for label in (
                self.name_label,
                self.numbers_label,
                self.notes_label,
                self.attempts_label,
                self.callback_label,
                self.link,
            ):
                label.clear()
            self.history.setRowCount(0)
            self.dial_button.setEnabled(False)
            self.save_button.setEnabled(False)
            self.attempt = None
            self.poll.stop()
            self.ticker.stop()
            self.call_label.clear()
            self.view_changed.emit()
            return
        self.name_label.setText(card["name"])
        self.numbers_label.setText(self.tr("Номера: {0}").format(", ".join(card["numbers"])))
        self.notes_label.setText(card.get("notes") or "")
        self.attempts_label.setText(self.tr("Попыток осталось: {0}").format(card["attempts_left"]))
        self.callback_label.setText(
            self.tr("Перезвон: {0}").format(_local(card["callback_at"]))
            if card.get("callback_at")
            else ""
        )
        url = card.get("info_url") or ""
        self.link.setText(f'<a href="{url}">{self.tr("Страница кампании")}</a>' if url else "")
        attempts = card.get("attempts") or []
        self.history.setRowCount(len(attempts))
        for row, attempt in enumerate(attempts):
            outcome = self.tr(OUTCOMES.get(attempt["outcome"], attempt["outcome"]))
            for col, text in enumerate(
                (_local(attempt["started_at"]), ", ".join(attempt["numbers"]), outcome)
            ):
                self.history.setItem(row, col, QtWidgets.QTableWidgetItem(text))
        running = any(a["outcome"] == "in_progress" for a in attempts)
        if self.attempt is None and running:
            # Dialled before this window (re)loaded: follow the last one.
            last = attempts[-1]
            self.attempt = {**last, "ring_until": last["ring_until"]}
        self.dial_button.setEnabled(card["attempts_left"] > 0 and not running)
        self.save_button.setEnabled(bool(attempts) and not running)
        if running and not self.poll.isActive():
            self.poll.start()
            self.ticker.start()
        if self.attempt is not None:
            self._tick()
        else:
            self.call_label.clear()
        self.view_changed.emit()
