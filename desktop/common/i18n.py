"""Languages: the source texts (``self.tr("...")``) are Russian; English is a translator.

The English catalogue is a Python dict served through a ``QTranslator`` subclass rather than a
compiled ``.qm`` file: there is no build step to forget, and a test checks that an English
window shows no Cyrillic, which catches a missing entry. A text without an entry stays Russian.
"""

from __future__ import annotations

from desktop.qt import QtCore

ENGLISH: dict[str, str] = {
    # login window
    "Пульт — вход": "Pult — sign in",
    "Сервер": "Server",
    "Логин": "Login",
    "Пароль": "Password",
    "логин@домен": "login@domain",
    "Запомнить меня": "Remember me",
    "Войти": "Sign in",
    "Вход…": "Signing in…",
    "Введите адрес сервера, логин и пароль": "Enter the server address, login and password",
    "Адрес сервера не похож на адрес: {0}": "This does not look like a server address: {0}",
    "Сервер {0} недоступен. Проверьте адрес и подключение к сети.": (
        "Cannot reach the server {0}. Check the address and the network connection."
    ),
    "Неверный логин или пароль": "Wrong login or password",
    "Вход временно заблокирован из-за неудачных попыток": (
        "Signing in is blocked for a while after failed attempts"
    ),
    "Сервер ответил ошибкой {0}": "The server answered with error {0}",
    "Сервер прислал непонятный ответ": "The server sent an answer the client does not understand",
    "Хранилище паролей системы недоступно: пароль не будет сохранён.": (
        "The system password store is not available: the password will not be saved."
    ),
    "Не удалось сохранить пароль в хранилище системы.": (
        "Could not save the password in the system password store."
    ),
    # main window
    "Пульт — {0}": "Pult — {0}",
    "Выйти": "Sign out",
    "Нет телефона": "No phone",
    "Домен: {0} ({1})": "Domain: {0} ({1})",
    "Пул (без домена)": "Pool (no domain)",
    "Роли: {0}": "Roles: {0}",
    "Телефон": "Softphone",
    "Оператор": "Operator",
    "Супервизор": "Supervisor",
    "Администрирование": "Admin",
    "Администратор домена": "Domain administrator",
    "Пользователь": "User",
    "Супервизор пула": "Pool supervisor",
    "Администратор подгруппы пула": "Pool sub-group administrator",
    "Софтфон: звонки, история вызовов, контакты и переадресация появятся в следующей версии.": (
        "Softphone: calls, call history, contacts and forwarding arrive in the next version."
    ),
    "Место оператора: статусы, очереди, поствызывная обработка и карточки кампаний "
    "появятся в следующей версии.": (
        "Operator workstation: statuses, queues, after-call work and campaign cards arrive "
        "in the next version."
    ),
    "Супервизор: мониторинг операторов и очередей, прослушивание и подсказка "
    "появятся в следующей версии.": (
        "Supervisor: monitoring of operators and queues, listen and whisper arrive in the "
        "next version."
    ),
    "Администрирование домена: пользователи, группы, номера и маршрутизация появятся в "
    "следующей версии. Сейчас они доступны через API сервера: {0}": (
        "Domain administration: users, groups, numbers and routing arrive in the next "
        "version. Today they are available through the server API: {0}"
    ),
}


class CatalogueTranslator(QtCore.QTranslator):
    """Translates by source text alone (the contexts of one small catalogue never clash)."""

    def __init__(self, catalogue: dict[str, str], parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._catalogue = catalogue

    def translate(  # type: ignore[override]
        self,
        context: str,
        source_text: str,
        disambiguation: str | None = None,
        n: int = -1,
    ) -> str | None:
        # None (a null QString) lets Qt fall back to the source text or the next translator.
        return self._catalogue.get(source_text)

    def isEmpty(self) -> bool:
        return not self._catalogue


def install(app: QtCore.QCoreApplication, lang: str) -> QtCore.QTranslator | None:
    """Install the translator for ``lang``; the caller keeps the returned object alive."""
    if lang != "en":
        return None
    translator = CatalogueTranslator(ENGLISH, app)
    app.installTranslator(translator)
    return translator


def tr(text: str) -> str:
    """For module-level tables (role names) that have no widget to call ``self.tr`` on."""
    return QtCore.QCoreApplication.translate("Pult", text)
