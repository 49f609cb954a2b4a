"""``python -m tests.ui.operator.crm_web OUTDIR``: the CRM pane's embedded browser on a real X
server, loading a page from a local HTTP server; prints one JSON line with what happened.

Run by tests/ui/operator/test_crm_web.py in its own process (Chromium and a display must not
leak into the pytest process). The page's <title> and body echo the decoded query, so the
parent can tell the encoded address arrived whole and was decoded by the server as meant.
"""

from __future__ import annotations

import html
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from desktop.operator import crm_panel
from desktop.operator.crm import render_crm_url
from desktop.qt import QtCore, QtGui, QtWidgets

CALLER = "+7 (495) 123-45-67"
OPERATOR = "Попов"
BACKGROUND = "#1e7a46"  # the page paints it; the screenshot must show it in the pane


class CrmHandler(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:
        if self.path == "/favicon.ico":
            self.send_error(404)
            return
        self.seen.append(self.path)
        query = dict(parse_qsl(urlsplit(self.path).query))
        caller, op = query.get("caller", ""), query.get("op", "")
        body = (
            f"<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(f'CRM {caller} / {op}')}</title></head>"
            f"<body style='background:{BACKGROUND};color:white;font-size:28px'>"
            f"<h1>Карточка клиента</h1><p id='caller'>{html.escape(caller)}</p>"
            f"<p id='op'>{html.escape(op)}</p></body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def wait(app: QtWidgets.QApplication, condition: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)
    return True


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    app = QtWidgets.QApplication(sys.argv[:1])
    server = ThreadingHTTPServer(("127.0.0.1", 0), CrmHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    template = f"http://127.0.0.1:{port}/card?caller={{caller}}&op={{operator}}"
    url = render_crm_url(template, {"caller": CALLER, "operator": OPERATOR})
    report: dict[str, object] = {"expected_url": url, "platform": app.platformName()}
    with tempfile.TemporaryDirectory() as tmp:
        settings = QtCore.QSettings(str(Path(tmp) / "s.ini"), QtCore.QSettings.Format.IniFormat)
        window = QtWidgets.QMainWindow()
        window.setWindowTitle("Pult — CRM")
        panel = crm_panel.CrmPanel(settings)
        window.setCentralWidget(panel)
        window.resize(1000, 640)
        window.show()
        panel.open(url)
        view = panel.view
        report["embedded"] = view is not None and panel.stack.currentWidget() is view
        report["note"] = panel.note.text()
        if view is None:
            print(json.dumps(report))
            return 0
        loads: list[bool] = []
        view.loadFinished.connect(loads.append)  # type: ignore[attr-defined]
        wait(app, lambda: loads, 90)
        report["loads"] = loads
        report["view_url"] = view.url().toString(  # type: ignore[attr-defined]
            QtCore.QUrl.ComponentFormattingOption.FullyEncoded
        )
        report["title"] = view.title()  # type: ignore[attr-defined]
        text: list[str] = []
        view.page().toPlainText(text.append)  # type: ignore[attr-defined]
        wait(app, lambda: text, 30)
        report["text"] = text[0] if text else None
        # The compositor paints a frame or two after the load; the pane must show the page.
        colour = QtGui.QColor(BACKGROUND).rgb()

        def painted() -> bool:
            image = view.grab().toImage()
            return image.pixel(image.width() - 10, image.height() - 10) == colour

        report["painted"] = wait(app, painted, 30)
        path = out / "operator-crm.png"
        report["screenshot"] = str(path) if window.grab().save(str(path)) else None
        report["requests"] = list(CrmHandler.seen)
        report["still_embedded"] = panel.stack.currentWidget() is view
        window.close()
        panel.deleteLater()
        app.processEvents()
    server.shutdown()
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))
