"""Labels of operator statuses and states, durations, and the English texts of both workspaces.

The workstation speaks in the first person («Ожидаю звонок»), the supervisor's monitor in the
third («Ожидает звонок»), as the spec's §5.2 note says the original product does.
"""

from __future__ import annotations

from desktop.common import i18n
from desktop.common.i18n import tr

OWN_STATUS = {
    "ready": "Ожидаю звонок",
    "break": "Перерыв",
    "away": "Нет на месте",
    "offline": "Не в сети",
}
THEIR_STATUS = {
    "ready": "Ожидает звонок",
    "break": "В перерыве",
    "away": "Отошёл",
    "offline": "Не в сети",
}
STATE = {
    "idle": "Свободен",
    "offered": "Вызывается",
    "incoming_call": "Входящий вызов",
    "outgoing_call": "Исходящий вызов",
    "post_call": "Поствызывная обработка",
    "campaign": "Исходящая кампания",
}
#: Column titles of the per-group counters (keys are the server's ``presence`` values).
COUNTERS = {
    "ready": "Ожидает звонок",
    "offered": "Вызывается",
    "incoming_call": "Вх. вызов",
    "outgoing_call": "Исх. вызов",
    "post_call": "Поствыз. обр.",
    "break": "Перерыв",
    "away": "Отошёл",
    "campaign": "Исх. кампания",
}
SPY_MODES = {"listen": "Прослушать", "whisper": "Подсказать", "barge": "Конференция"}


def own_status(status: str) -> str:
    return tr(OWN_STATUS.get(status, status))


def their_status(status: str) -> str:
    return tr(THEIR_STATUS.get(status, status))


def state(value: str) -> str:
    return tr(STATE.get(value, value))


def duration(seconds: float) -> str:
    """``75`` → ``1:15``, ``3725`` → ``1:02:05`` (a live timer, not a report)."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


ENGLISH: dict[str, str] = {
    # statuses and states
    "Ожидаю звонок": "Waiting for a call",
    "Перерыв": "Break",
    "Нет на месте": "Away from desk",
    "Не в сети": "Offline",
    "Ожидает звонок": "Waiting for a call",
    "В перерыве": "On a break",
    "Отошёл": "Away",
    "Свободен": "Idle",
    "Вызывается": "Ringing",
    "Входящий вызов": "Incoming call",
    "Исходящий вызов": "Outgoing call",
    "Поствызывная обработка": "After-call work",
    "Исходящая кампания": "Outbound campaign",
    "Вх. вызов": "Incoming",
    "Исх. вызов": "Outgoing",
    "Поствыз. обр.": "After-call",
    "Исх. кампания": "Campaign",
    "Прослушать": "Listen",
    "Подсказать": "Whisper",
    "Конференция": "Barge in",
    # operator workstation
    "Статус:": "Status:",
    "Перерыв: {0}": "Break: {0}",
    "Причина перерыва": "Reason for the break",
    "{0} · с {1} ({2})": "{0} · since {1} ({2})",
    "Нет связи с сервером: состояние может быть устаревшим": (
        "No connection to the server: the state may be out of date"
    ),
    "Поствызывная обработка: осталось {0}": "After-call work: {0} left",
    "Завершить": "Finish",
    "Продлить": "Extend",
    "Входящий вызов · {0}": "Incoming call · {0}",
    "Звонит: {0}": "Caller: {0}",
    "VIP-клиент": "VIP caller",
    "Ответить в течение {0} с": "Answer within {0} s",
    "Принять": "Accept",
    "Отклонить": "Decline",
    "Неизвестный абонент": "Unknown caller",
    "CRM": "CRM",
    "Сообщения": "Messages",
    "Сообщения ({0})": "Messages ({0})",
    "Обзвон": "Outbound calls",
    "Открывать CRM:": "Open the CRM:",
    "при поступлении вызова": "when a call is offered",
    "при ответе": "when the call is answered",
    "Открыть в браузере": "Open in browser",
    "Для этой группы адрес CRM не задан": "No CRM address is set for this group",
    "Страница CRM откроется при вызове": "The CRM page opens with a call",
    "Встроенный браузер недоступен — откройте страницу в браузере:": (
        "The built-in browser is not available — open the page in your browser:"
    ),
    "Сообщений нет": "No messages",
    "Не прочитано": "Unread",
    "Прочитано {0}": "Read {0}",
    "от {0}, {1}": "from {0}, {1}",
    "Введите свой пароль, чтобы подтвердить прочтение": (
        "Enter your password to confirm that you have read it"
    ),
    "Подтвердить прочтение": "Confirm reading",
    "Прочтение подтверждено": "Reading confirmed",
    "Введите пароль": "Enter your password",
    "Не удалось выполнить: {0}": "Could not do it: {0}",
    "Сервер недоступен: {0}": "The server is unreachable: {0}",
    "Карточка кампании недоступна: {0}": "The campaign card is not available: {0}",
    # supervisor
    "Мониторинг": "Monitoring",
    "Оператор": "Operator",
    "В сети": "Online",
    "Статус": "Status",
    "Состояние": "State",
    "Время": "Time",
    "Отвечено": "Answered",
    "Пропущено": "Missed",
    "Время разговоров": "Talk time",
    "да": "yes",
    "нет": "no",
    "Очередь: {0}": "Queue: {0}",
    "Дольше всех ждёт: {0}": "Longest wait: {0}",
    "На работе: {0} из {1}": "Working: {0} of {1}",
    "Групп с операторами нет": "No groups with operators",
    "Участие в разговоре": "Join the call",
    "Выберите оператора в разговоре": "Choose an operator who is in a call",
    "Режим: {0} · оператор {1}": "Mode: {0} · operator {1}",
    "Закончить": "End",
    "Набираю {0}…": "Dialling {0}…",
    "Новое сообщение": "New message",
    "Заголовок": "Title",
    "Текст": "Text",
    "Группы получателей": "Recipient groups",
    "Отправить": "Send",
    "Отмена": "Cancel",
    "Заполните заголовок и текст и выберите хотя бы одну группу": (
        "Fill in the title and the text and choose at least one group"
    ),
    "Прочитали": "Read by",
    "Не прочитали": "Not read by",
    "Дата": "Date",
    "Прочитали ({0})": "Read ({0})",
    "Не прочитали ({0})": "Not read ({0})",
    "Выберите сообщение, чтобы увидеть, кто его прочитал": (
        "Choose a message to see who has read it"
    ),
    "Сообщение отправлено": "The message was sent",
}
for _source, _english in ENGLISH.items():
    i18n.ENGLISH.setdefault(_source, _english)
