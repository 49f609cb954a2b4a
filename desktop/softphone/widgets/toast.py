"""The incoming-call toast: who calls (name from the contacts), answer or reject."""

from __future__ import annotations

from desktop.qt import QtCore, QtGui, QtWidgets, Signal


class IncomingToast(QtWidgets.QFrame):
    answer_clicked = Signal(int)
    reject_clicked = Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("incoming-toast")
        self.setWindowFlags(
            QtCore.Qt.WindowType.Tool
            | QtCore.Qt.WindowType.FramelessWindowHint
            | QtCore.Qt.WindowType.WindowStaysOnTopHint
        )
        self.setFrameShape(QtWidgets.QFrame.Shape.Box)
        self.line_id = 0
        self.title = QtWidgets.QLabel(self.tr("Входящий вызов"))
        self.title.setObjectName("toast-title")
        self.name_label = QtWidgets.QLabel()
        self.name_label.setObjectName("toast-name")
        font = self.name_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.name_label.setFont(font)
        self.number_label = QtWidgets.QLabel()
        self.number_label.setObjectName("toast-number")
        self.answer_button = QtWidgets.QPushButton(self.tr("&Ответить"))
        self.answer_button.setObjectName("toast-answer")
        self.reject_button = QtWidgets.QPushButton(self.tr("О&тклонить"))
        self.reject_button.setObjectName("toast-reject")
        self.answer_button.clicked.connect(lambda: self.answer_clicked.emit(self.line_id))
        self.reject_button.clicked.connect(lambda: self.reject_clicked.emit(self.line_id))
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.answer_button)
        buttons.addWidget(self.reject_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.name_label)
        layout.addWidget(self.number_label)
        layout.addLayout(buttons)

    def show_call(self, line_id: int, name: str, number: str) -> None:
        self.line_id = line_id
        self.set_caller(name, number)
        self.adjustSize()
        screen = QtGui.QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            self.move(area.right() - self.width() - 16, area.bottom() - self.height() - 16)
        self.show()
        if QtGui.QGuiApplication.platformName() != "offscreen":  # it cannot raise, and says so
            self.raise_()

    def set_caller(self, name: str, number: str) -> None:
        self.name_label.setText(name or number)
        self.number_label.setText(number if name else "")
