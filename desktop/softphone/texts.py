"""English for the softphone's texts (the sources are Russian, see desktop/common/i18n.py).

The application's catalogue is one dict served by one translator; the softphone adds its own
entries to it when its widgets are first imported, so its texts live next to its code.
"""

from __future__ import annotations

from desktop.common import i18n

ENGLISH: dict[str, str] = {
    " с": " s",
    "&Автоответ через": "&Auto-answer after",
    "&Динамик": "&Speaker",
    "&Завершить": "&Hang up",
    "&Загрузить историю с сервера": "&Load the history from the server",
    "&Звонок": "&Ringing",
    "&Конференция": "&Conference",
    "&Микрофон выкл.": "&Mute",
    "&Микрофон": "&Microphone",
    "&Не беспокоить": "&Do not disturb",
    "&Ответить": "&Answer",
    "&Позвонить": "Ca&ll",
    "&Разделить": "S&plit",
    "&Удержание": "H&old",
    "{0} (не подключено)": "{0} (not connected)",
    "Введите номер": "Enter a number",
    "Введите номер, на который перевести вызов": "Enter the number to transfer the call to",
    "Входящий вызов": "Incoming call",
    "Выбрать (Alt+{0})": "Select (Alt+{0})",
    "Вызов {0}": "Calling {0}",
    "Вызов завершён: {0} {1}": "Call ended: {0} {1}",
    "Вызов не удался: {0}": "The call failed: {0}",
    "Вызов переведён": "Call transferred",
    "Вызов…": "Ringing…",
    "Горячие клавиши": "Hotkeys",
    "Длительность": "Duration",
    "Для конференции нужны две линии": "A conference needs two lines",
    "Для перевода с консультацией нужны две линии": "An attended transfer needs two lines",
    "Завершить": "Hang up",
    "Завершён": "Ended",
    "Зарегистрирован": "Registered",
    "Звонки": "Calls",
    "Звук": "Sound",
    "История": "History",
    "Источник": "Source",
    "Итог": "Result",
    "Когда": "When",
    "Конференция": "Conference",
    "Кто": "Who",
    "Линия {0}": "Line {0}",
    "Микрофон": "Mute",
    "На удержании": "On hold",
    "Набор…": "Dialling…",
    "Настройки": "Settings",
    "Не зарегистрирован": "Not registered",
    "Не подключено: {0}. Пока используется системное устройство.": (
        "Not connected: {0}. The system device is used meanwhile."
    ),
    "Не понимаю, куда звонить: {0}": "Cannot tell where to call: {0}",
    "Не удалось получить историю с сервера: {0}": "Could not get the history from the server: {0}",
    "Не удалось узнать SIP-учётную запись: {0}": "Could not get the SIP account: {0}",
    "Нет входящего вызова": "No incoming call",
    "Нет вызова": "No call",
    "Нет разговора с оператором": "No call with an operator",
    "Нет конференции": "No conference",
    "Нет регистрации ({0} {1}), повтор…": "Not registered ({0} {1}), retrying…",
    "Номер, имя или SIP-адрес": "Number, name or SIP address",
    "О&тклонить": "&Reject",
    "Обе линии заняты": "Both lines are busy",
    "Ответить": "Answer",
    "Ошибка телефона: {0}": "Phone error: {0}",
    "П&еревести на номер": "&Transfer to number",
    "Пере&вести на линию": "Transfer to l&ine",
    "Перевод на {0}…": "Transferring to {0}…",
    "Перевод не удался ({0})": "The transfer failed ({0})",
    "Перевод": "Transfer",
    "Перевод…": "Transferring…",
    "Получен тон {0}": "Received tone {0}",
    "Потери {0:.1f} %, джиттер {1:.0f} мс, задержка {2:.0f} мс, {3}": (
        "Loss {0:.1f} %, jitter {1:.0f} ms, round trip {2:.0f} ms, {3}"
    ),
    "Разговор ещё не начался": "The call has not started yet",
    "Разговор": "Talking",
    "Регистрация…": "Registering…",
    "С сервера: {0} вызовов": "From the server: {0} calls",
    "Свободна": "Free",
    "Системное устройство": "System device",
    "Соединение…": "Connecting…",
    "Телефон не запустился: {0}": "The phone did not start: {0}",
    "Телефон не зарегистрирован на сервере": "The phone is not registered with the server",
    "Тон {0}": "Tone {0}",
    "У этой учётной записи нет телефона": "This account has no phone",
    "Удержание": "Hold",
    "Этой линии больше нет": "This line is gone",
    "Этот вызов уже не звонит": "This call is no longer ringing",
    "занято": "busy",
    "микрофон выключен": "muted",
    "не беспокоить": "do not disturb",
    "не состоялся": "failed",
    "отклонён": "rejected",
    "пропущен": "missed",
    "разговор": "answered",
    "сервер": "server",
    "удерживает вас": "holding you",
    "этот компьютер": "this computer",
    "Показаны звонки с этого компьютера. Полная история вызовов домена "
    "доступна администратору домена.": (
        "These are the calls made on this computer. The domain's full call history is "
        "available to the domain administrator."
    ),
}


def install() -> None:
    for source, english in ENGLISH.items():
        i18n.ENGLISH.setdefault(source, english)
