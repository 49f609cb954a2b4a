"""The main window: who is signed in, and one tab per workspace the roles allow.

The workspaces themselves (softphone, operator workstation, supervisor tools, admin panel)
come in later versions; each tab says what it will hold.
"""

from __future__ import annotations

import asyncio
import importlib

from desktop.api.client import Principal, PultClient
from desktop.common.i18n import tr
from desktop.qt import QtCore, QtWidgets, Signal

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


class MainWindow(QtWidgets.QMainWindow):
    """Emits :attr:`signed_out` after the session has ended."""

    signed_out = Signal()

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
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
        for key in workspaces_for(self.principal.roles):
            self.tabs.addTab(self._workspace(key), self._title(key))

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
        return widget

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
