"""The main window: who is signed in, and one tab per workspace the roles allow.

The workspaces themselves (softphone, operator workstation, supervisor tools, admin panel)
come in later versions; each tab says what it will hold.
"""

from __future__ import annotations

import asyncio
import importlib

from desktop.api.client import Principal, PultClient
from desktop.common.i18n import tr
from desktop.qt import QtCore, QtGui, QtWidgets, Signal

SOFTPHONE = "softphone"
OPERATOR = "operator"
SUPERVISOR = "supervisor"
ADMIN = "admin"
WORKSPACE_MODULES = {
    SOFTPHONE: "desktop.softphone.workspace",
    OPERATOR: "desktop.operator.workspace",
    SUPERVISOR: "desktop.operator.supervisor_workspace",
    ADMIN: "desktop.admin.workspace",
}
#: With ``defer``, only the first tab is built with the window. The workspaces that must work
#: unseen (the operator's: offers, post-call work) are built right after the first paint, one
#: per event-loop turn (after BUILD_FALLBACK_MS if the window is shown but never painted); the
#: others when their tab is first chosen (the admin panel takes ~100 ms to build: a freeze
#: nobody asked for if it came unbidden).
BUILD_IN_BACKGROUND = frozenset({OPERATOR})
BUILD_DELAY_MS = 0
BUILD_FALLBACK_MS = 1000
#: Qt classes the main window and the softphone tab create on the way to their first paint.
#: PySide builds a class's Python enums on the class's first use (~0.25 ms each, 35 of them):
#: :func:`warm_up_types` does that while the person is still typing the password.
FIRST_PAINT_TYPES = (
    "QtWidgets.QTabWidget",
    "QtWidgets.QTreeWidget",
    "QtWidgets.QTreeWidgetItem",
    "QtWidgets.QComboBox",
    "QtWidgets.QSpinBox",
    "QtWidgets.QCompleter",
    "QtWidgets.QKeySequenceEdit",
    "QtGui.QKeySequence",
    "QtCore.QStringListModel",
    "QtCore.QSettings",
    "QtCore.QStandardPaths",
    "QtCore.QByteArray",
)


def warm_up_types() -> None:
    """Touch the classes of FIRST_PAINT_TYPES (a stale entry only costs its warm-up)."""
    modules = {"QtCore": QtCore, "QtGui": QtGui, "QtWidgets": QtWidgets}
    for dotted in FIRST_PAINT_TYPES:
        module, name = dotted.split(".")
        cls = getattr(modules[module], name, None)
        if cls is not None:
            getattr(cls, "staticMetaObject", None)


def workspaces_for(roles: list[str] | set[str]) -> list[str]:
    """Softphone for everyone; the domain admin also supervises (spec: admin ⊇ supervisor)."""
    have = set(roles)
    result = [SOFTPHONE]
    if "operator" in have:
        result.append(OPERATOR)
    if have & {"supervisor", "domain_admin"}:
        result.append(SUPERVISOR)
    if "domain_admin" in have:
        result.append(ADMIN)
    return result


def role_name(role: str) -> str:
    names = {
        "domain_admin": "Администратор домена",
        "supervisor": "Супервизор",
        "operator": "Оператор",
        "user": "Пользователь",
        "pool_supervisor": "Супервизор пула",
        "pool_subgroup_admin": "Администратор подгруппы пула",
    }
    return tr(names[role]) if role in names else role


#: A workspace's signal → the softphone widget's method that carries it out.
PHONE_REQUESTS = {
    "hangup_requested": "hangup",
    "spy_mode_requested": "set_spy_mode",
    "spy_hangup_requested": "hangup_spy",
}


class MainWindow(QtWidgets.QMainWindow):
    """Emits :attr:`signed_out` after the session has ended, and :attr:`dial_requested` with a
    number a workspace wants the softphone to call (the application dials it)."""

    signed_out = Signal()
    dial_requested = Signal(str)

    def __init__(
        self, client: PultClient, parent: QtWidgets.QWidget | None = None, *, defer: bool = False
    ) -> None:
        """``defer`` (the application's choice): build only the first tab now, the others
        after the first paint or when chosen (see BUILD_IN_BACKGROUND)."""
        super().__init__(parent)
        assert client.principal is not None, "the main window needs a signed-in client"
        self.client = client
        self.principal: Principal = client.principal
        self.pending: asyncio.Task[None] | None = None
        self.setObjectName("main-window")
        self.setWindowTitle(self.tr("Пульт — {0}").format(self.principal.display_name))
        self.resize(900, 600)

        self.name_label = QtWidgets.QLabel(self.principal.display_name or self.principal.login)
        self.name_label.setObjectName("user-name")
        font = self.name_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.name_label.setFont(font)
        self.address_label = QtWidgets.QLabel(self.principal.address)
        self.address_label.setObjectName("user-address")
        domain = self.principal.domain
        self.domain_label = QtWidgets.QLabel(
            self.tr("Домен: {0} ({1})").format(domain.display_name, domain.name)
            if domain is not None
            else self.tr("Пул (без домена)")
        )
        self.domain_label.setObjectName("user-domain")
        self.roles_label = QtWidgets.QLabel(
            self.tr("Роли: {0}").format(", ".join(role_name(r) for r in self.principal.roles))
        )
        self.roles_label.setObjectName("user-roles")
        self.logout_button = QtWidgets.QPushButton(self.tr("Выйти"))
        self.logout_button.setObjectName("logout")
        self.logout_button.clicked.connect(self.sign_out)

        who = QtWidgets.QVBoxLayout()
        for label in (self.name_label, self.address_label, self.domain_label, self.roles_label):
            label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
            who.addWidget(label)
        header = QtWidgets.QHBoxLayout()
        header.addLayout(who, 1)
        header.addWidget(self.logout_button, 0, QtCore.Qt.AlignmentFlag.AlignTop)

        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setObjectName("workspaces")
        #: Tabs whose workspace is not built yet: key → the empty page standing in for it.
        self._unbuilt: dict[str, QtWidgets.QWidget] = {}
        self._swapping = False  # a page is being replaced: its tab changes are not choices
        self._painted = False
        self._building = False
        for index, key in enumerate(workspaces_for(self.principal.roles)):
            if defer and index > 0:
                page = QtWidgets.QWidget()
                page.setObjectName(f"unbuilt-{key}")
                self._unbuilt[key] = page
            else:
                page = self._workspace(key)
            self.tabs.addTab(page, self._title(key))
        self.tabs.currentChanged.connect(self._tab_chosen)

        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        layout.addLayout(header)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

    def _title(self, key: str) -> str:
        return {
            SOFTPHONE: self.tr("Телефон"),
            OPERATOR: self.tr("Оператор"),
            SUPERVISOR: self.tr("Супервизор"),
            ADMIN: self.tr("Администрирование"),
        }[key]

    def _workspace(self, key: str) -> QtWidgets.QWidget:
        """The workspace's own widget when its module exists, else a page saying what is coming.

        Each area owns ``desktop/<area>/workspace.py`` with ``create(client, parent)``, so the
        areas plug in here without touching this window.
        """
        module_name = WORKSPACE_MODULES[key]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return self._placeholder(key)
        widget: QtWidgets.QWidget = module.create(self.client, self)
        widget.setObjectName(f"workspace-{key}")
        asks_to_dial = getattr(widget, "dial_requested", None)
        if asks_to_dial is not None:
            asks_to_dial.connect(self.dial_requested)
        # The other things a workspace may ask of the phone (the campaign card ending its
        # call, the supervisor switching or ending listen/whisper/barge) need no waiting for
        # registration, so the window hands them to the softphone tab itself.
        for name, action in PHONE_REQUESTS.items():
            signal = getattr(widget, name, None)
            if signal is not None:
                signal.connect(lambda *args, act=action: self._ask_phone(act, *args))
        return widget

    def _ask_phone(self, action: str, *args: object) -> None:
        phone = self.findChild(QtWidgets.QWidget, "workspace-softphone")
        method = getattr(phone, action, None)
        if callable(method):
            method(*args)
        else:
            self.statusBar().showMessage(self.tr("Нет телефона"), 10_000)

    # -- tabs built after the first paint ---------------------------------------------------

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if self._unbuilt:
            QtCore.QTimer.singleShot(BUILD_FALLBACK_MS, self, self._start_building)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            if self._unbuilt:
                QtCore.QTimer.singleShot(BUILD_DELAY_MS, self, self._start_building)

    def _start_building(self) -> None:
        if not self._building:
            self._building = True
            self._build_next()

    def _build_next(self) -> None:
        keys = [key for key in self._unbuilt if key in BUILD_IN_BACKGROUND]
        if not keys:
            return
        if len(keys) > 1:
            # Scheduled first: a workspace that fails to build must not stop the others.
            QtCore.QTimer.singleShot(0, self, self._build_next)
        self._build(keys[0])

    def _tab_chosen(self, index: int) -> None:
        if self._swapping:
            return
        page = self.tabs.widget(index)
        for key, unbuilt in list(self._unbuilt.items()):
            if unbuilt is page:
                self._build(key)

    def _build(self, key: str) -> None:
        page = self._unbuilt.pop(key, None)
        if page is None:
            return
        index = self.tabs.indexOf(page)
        widget = self._workspace(key)
        current = self.tabs.currentIndex() == index
        self._swapping = True
        try:
            self.tabs.removeTab(index)
            self.tabs.insertTab(index, widget, self._title(key))
            if current:
                self.tabs.setCurrentIndex(index)
        finally:
            self._swapping = False
        page.deleteLater()

    def _placeholder(self, key: str) -> QtWidgets.QWidget:
        text = {
            SOFTPHONE: self.tr(
                "Софтфон: звонки, история вызовов, контакты и переадресация появятся в "
                "следующей версии."
            ),
            OPERATOR: self.tr(
                "Место оператора: статусы, очереди, поствызывная обработка и карточки кампаний "
                "появятся в следующей версии."
            ),
            SUPERVISOR: self.tr(
                "Супервизор: мониторинг операторов и очередей, прослушивание и подсказка "
                "появятся в следующей версии."
            ),
            ADMIN: self.tr(
                "Администрирование домена: пользователи, группы, номера и маршрутизация "
                "появятся в следующей версии. Сейчас они доступны через API сервера: {0}"
            ).format(f"{self.client.server}/api/docs"),
        }[key]
        page = QtWidgets.QWidget()
        page.setObjectName(f"workspace-{key}")
        label = QtWidgets.QLabel(text)
        label.setWordWrap(True)
        label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QtWidgets.QVBoxLayout(page)
        layout.addWidget(label)
        layout.addStretch(1)
        return page

    def sign_out(self) -> None:
        if self.pending is not None and not self.pending.done():
            return
        self.logout_button.setEnabled(False)
        self.pending = asyncio.ensure_future(self._sign_out())

    async def _sign_out(self) -> None:
        await self.client.logout()
        await self.client.aclose()
        self.signed_out.emit()
