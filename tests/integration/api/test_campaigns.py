"""Outbound campaigns through the API: the admin's campaign and call list, the operator's cards.

Time is injected (``acd_service.now``); the operator's calls are call records (CDRs) as the SIP
edge writes them, so an attempt's outcome is what the network did. Two operators of one ACD
group in alpha.test; beta.test is the other company.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server_stub.store import provision
from server_stub.store.models import AuditEntry, CallGroup, User
from server_stub.store.models_acd import OperatorInterval
from server_stub.store.models_calls import Cdr
from server_stub.store.models_campaigns import CampaignClient
from tests.factories import PASSWORD, auth, token_for_user
from tests.integration.api.acd_world import T0, Operators, two_operators

HEADER = "Клиент;Телефон 1;Телефон 2;Телефон 3;Примечания"


@dataclass
class Setup(Operators):
    db: Session

    def at(self, seconds: float) -> None:
        self.clock.to(seconds)

    def post(self, url: str, n: int = 1, body: Any = None, at: float | None = None) -> Any:
        if at is not None:
            self.at(at)
        return self.client.post(url, json=body if body is not None else {}, headers=self.op(n))

    def admin(self, method: str, url: str, **kw: Any) -> Any:
        return self.client.request(method, url, headers=self.w.a.headers(), **kw)

    def campaign(self, **extra: Any) -> dict[str, Any]:
        body = {
            "name": "Оповещение об акции",
            "group_id": self.group.id,
            "attempts": 2,
            "method": "sequential",
            "max_minutes": 5,
            "info_url": "https://crm.example/c?client={client_id}&op={operator}",
            "starts_at": (T0 - timedelta(hours=1)).isoformat(),
            "ends_at": (T0 + timedelta(days=10)).isoformat(),
            "active": True,
        } | extra
        r = self.admin("POST", "/api/campaigns", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def add(self, cid: int, name: str, *numbers: str, notes: str = "") -> dict[str, Any]:
        r = self.admin(
            "POST",
            f"/api/campaigns/{cid}/clients",
            json={"name": name, "numbers": list(numbers), "notes": notes},
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    def ready_in(self, cid: int, n: int = 1, at: float = 0) -> dict[str, Any]:
        self.at(at)
        r = self.client.put("/api/operator/status", json={"status": "ready"}, headers=self.op(n))
        assert r.status_code == 200, r.text
        r = self.post("/api/operator/campaign/start", n, {"campaign_id": cid})
        assert r.status_code == 200, r.text
        return dict(r.json())

    def cdr(
        self, n: int, called: str, at: float, result: str, answered: float | None = None
    ) -> None:
        """The call record the SIP edge writes for the operator's outgoing call."""
        user = self.db.get(User, self.uid(n))
        assert user is not None
        self.db.add(
            Cdr(
                call_id=f"call-{n}-{called}-{at}",
                domain_id=self.w.a.domain.id,
                direction="mobile",
                source="user",
                caller=user.extension,
                caller_user_id=user.id,
                called=called,
                started_at=T0 + timedelta(seconds=at),
                answered_at=T0 + timedelta(seconds=answered) if answered is not None else None,
                result=result,
            )
        )
        self.db.commit()

    def progress(self, cid: int) -> dict[str, Any]:
        r = self.admin("GET", f"/api/campaigns/{cid}")
        assert r.status_code == 200, r.text
        return dict(r.json()["progress"])


@pytest.fixture
def s(client: TestClient, app: FastAPI, db: Session) -> Setup:
    w, op2, group, clock = two_operators(db, app, name="Обзвон", extension="710")
    return Setup(w, op2, group, clock, client, db)


def statuses(view: dict[str, Any]) -> dict[str, int]:
    return {st["name"]: st["id"] for st in view["statuses"]}


# --- the admin ---------------------------------------------------------------------------------


def test_a_new_campaign_has_the_two_fixed_statuses_which_cannot_be_deleted(s: Setup) -> None:
    c = s.campaign()
    assert [(st["name"], st["fixed"]) for st in c["statuses"]] == [
        ("Успешный вызов", True),
        ("Нет ответа", True),
    ]
    assert c["group_name"] == "Обзвон" and c["ring_seconds"] == 20
    r = s.admin("DELETE", f"/api/campaigns/{c['id']}/statuses/{c['statuses'][0]['id']}")
    assert r.status_code == 409 and "нельзя удалить" in r.json()["message"]
    r = s.admin("POST", f"/api/campaigns/{c['id']}/statuses", json={"name": "Перезвонить позже"})
    assert r.status_code == 201
    custom = statuses(r.json())["Перезвонить позже"]
    assert s.admin("DELETE", f"/api/campaigns/{c['id']}/statuses/{custom}").status_code == 204
    r = s.admin("GET", f"/api/campaigns/{c['id']}")
    assert list(statuses(r.json())) == ["Успешный вызов", "Нет ответа"]
    actions = s.db.execute(
        select(AuditEntry.action, AuditEntry.object_type).where(
            AuditEntry.object_type.like("campaign%")
        )
    ).all()
    assert ("create", "campaign") in actions and ("delete", "campaign_status") in actions


def test_campaign_form_errors_name_their_field(s: Setup) -> None:
    r = s.admin(
        "POST",
        "/api/campaigns",
        json={
            "name": "X",
            "group_id": s.group.id,
            "starts_at": T0.isoformat(),
            "ends_at": (T0 - timedelta(days=1)).isoformat(),
        },
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "ends_at"
    other = s.w.b.domain.id
    group_b = CallGroup(domain_id=other, name="B", extension="711", algorithm="longest_idle")
    s.db.add(group_b)
    s.db.commit()
    r = s.admin(
        "POST",
        "/api/campaigns",
        json={
            "name": "Y",
            "group_id": group_b.id,
            "starts_at": T0.isoformat(),
            "ends_at": (T0 + timedelta(days=1)).isoformat(),
        },
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "group_id"


def test_import_with_errors_names_line_and_column_and_writes_nothing(s: Setup) -> None:
    c = s.campaign()
    s.add(c["id"], "Уже в списке", "+74951112233")
    data = "\n".join(
        [
            HEADER,
            "Николай;+7 916 111-22-33;;;Инфа",
            ";+79161112244;;;",  # line 3: no name
            "Роман;+7 899 222-33-44;;;",  # line 4: no such range
            "Ольга;84951112233;;;",  # line 5: already in the campaign
            "Пётр;;;;",  # line 6: no phone
            "Анна;+79161115555;;;",
            "Иван;+79161115555;;;",  # lines 7 and 8: the same number
        ]
    ).encode("utf-8")
    files = {"file": ("clients.csv", data, "text/csv")}
    check = s.admin("POST", f"/api/campaigns/{c['id']}/import/check", files=files)
    assert check.status_code == 200, check.text
    errors = [(e["line"], e["column"].split(" ")[0], e["field"]) for e in check.json()["errors"]]
    assert errors == [
        (3, "A", "name"),
        (4, "B", "phone1"),
        (5, "B", "phone1"),
        (6, "B,", "phones"),
        (7, "B", "phone1"),
        (8, "B", "phone1"),
    ]
    assert "уже есть в списке обзвона" in check.json()["errors"][2]["message"]
    before = s.db.execute(select(func.count()).select_from(CampaignClient)).scalar_one()
    r = s.admin("POST", f"/api/campaigns/{c['id']}/import/create", files=files)
    assert r.status_code == 422 and r.json()["code"] == "import_has_errors"
    messages = [d["message"] for d in r.json()["details"]]
    assert messages[0].startswith("Строка 3, столбец A (Клиент)")
    s.db.expire_all()
    assert s.db.execute(select(func.count()).select_from(CampaignClient)).scalar_one() == before


def test_a_clean_file_loads_every_client_in_order(s: Setup) -> None:
    c = s.campaign()
    data = "\n".join([HEADER, "Николай;444555;+79161112233;;Инфа", "Роман;+74951112299;;;"]).encode(
        "utf-8"
    )
    r = s.admin(
        "POST",
        f"/api/campaigns/{c['id']}/import/create",
        files={"file": ("c.csv", data, "text/csv")},
    )
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 2
    listing = s.admin("GET", f"/api/campaigns/{c['id']}/clients").json()
    assert (listing["total"], listing["called"]) == (2, 0)
    assert [(i["name"], i["numbers"], i["status"]) for i in listing["items"]] == [
        ("Николай", ["444555", "+79161112233"], "Начальное состояние"),
        ("Роман", ["+74951112299"], "Начальное состояние"),
    ]
    found = s.admin("GET", f"/api/campaigns/{c['id']}/clients", params={"search": "916 111"})
    assert [i["name"] for i in found.json()["items"]] == ["Николай"]


# --- the operator ------------------------------------------------------------------------------


def test_cards_go_only_to_an_operator_of_the_group_in_campaign_state(s: Setup, db: Session) -> None:
    c = s.campaign()
    s.add(c["id"], "Николай", "+79161112233")
    s.at(0)
    # Not in the campaign state: no card.
    r = s.post("/api/operator/campaign/next")
    assert r.status_code == 409 and r.json()["code"] == "not_in_campaign"
    # An operator outside the group cannot join.
    outsider = provision.create_user(
        db, s.w.a.domain, "operator3", PASSWORD, "Оператор Три", is_operator=True
    )
    db.commit()
    r = s.client.post(
        "/api/operator/campaign/start",
        json={"campaign_id": c["id"]},
        headers=auth(token_for_user(outsider)),
    )
    assert r.status_code == 403
    view = s.ready_in(c["id"], at=10)
    assert view["in_campaign"] and view["state"] == "campaign"
    # The state is an interval like every ACD state (the shift report counts it).
    rows = db.execute(
        select(OperatorInterval.value).where(
            OperatorInterval.user_id == s.uid(), OperatorInterval.kind == "state"
        )
    ).scalars()
    assert "campaign" in list(rows)
    card = s.post("/api/operator/campaign/next", at=11).json()["card"]
    assert card["name"] == "Николай" and card["numbers"] == ["+79161112233"]
    assert card["info_url"] == f"https://crm.example/c?client={card['id']}&op=operator"
    # The second operator does not get the card the first one has on screen.
    s.ready_in(c["id"], n=2, at=12)
    assert s.post("/api/operator/campaign/next", 2, at=13).json()["card"] is None
    assert s.progress(c["id"])["in_progress"] == 1
    # Leaving the campaign puts the card back; the other operator gets it.
    r = s.post("/api/operator/campaign/stop", at=14)
    assert r.json()["state"] == "idle" and not r.json()["in_campaign"]
    assert s.post("/api/operator/campaign/next", 2, at=15).json()["card"]["name"] == "Николай"


def test_inactive_or_finished_campaign_gives_no_cards(s: Setup) -> None:
    c = s.campaign(active=False)
    s.add(c["id"], "Николай", "+79161112233")
    s.at(0)
    s.client.put("/api/operator/status", json={"status": "ready"}, headers=s.op())
    r = s.post("/api/operator/campaign/start", body={"campaign_id": c["id"]})
    assert r.status_code == 409
    s.admin("PATCH", f"/api/campaigns/{c['id']}", json={"active": True})
    s.ready_in(c["id"], at=1)
    s.admin(
        "PATCH",
        f"/api/campaigns/{c['id']}",
        json={"ends_at": (T0 + timedelta(seconds=5)).isoformat()},
    )
    assert s.post("/api/operator/campaign/next", at=6).json()["card"] is None


def test_attempts_are_read_from_the_operators_call_records(s: Setup) -> None:
    c = s.campaign(method="sequential", attempts=2)
    s.add(c["id"], "Николай", "+79161112233", "+74951112299")
    s.ready_in(c["id"], at=0)
    s.post("/api/operator/campaign/next", at=1)
    r = s.post("/api/operator/campaign/attempts", at=2)
    assert r.status_code == 201, r.text
    attempt = r.json()["attempt"]
    # Sequential: the first number now, the second on the next attempt.
    assert attempt["numbers"] == ["+79161112233"] and attempt["ring_seconds"] == 20
    assert attempt["ring_until"] == (T0 + timedelta(seconds=22)).isoformat()
    s.at(5)
    card = s.client.get("/api/operator/campaign", headers=s.op()).json()["card"]
    assert card["attempts"][0]["outcome"] == "in_progress"
    # The softphone dials as the operator; the edge's record says nobody answered.
    s.cdr(1, "+79161112233", at=2.5, result="missed")
    # The desktop's claim does not override the network's record.
    r = s.post(
        f"/api/operator/campaign/attempts/{attempt['id']}/finish",
        body={"outcome": "answered"},
        at=23,
    )
    assert r.status_code == 200
    shown = r.json()["card"]["attempts"][0]
    assert (shown["outcome"], shown["source"]) == ("no_answer", "cdr")
    # «Нет ответа» with an attempt left: back in the list; the same operator gets it later.
    no_answer = statuses(r.json()["campaign"])["Нет ответа"]
    r = s.post("/api/operator/campaign/result", body={"status_id": no_answer}, at=30)
    assert r.status_code == 200, r.text
    assert r.json()["card"] is None
    assert s.post("/api/operator/campaign/next", at=40).json()["card"] is None  # too soon
    card = s.post("/api/operator/campaign/next", at=700).json()["card"]
    assert card["name"] == "Николай" and card["attempts_left"] == 1
    attempt = s.post("/api/operator/campaign/attempts", at=701).json()["attempt"]
    assert attempt["numbers"] == ["+74951112299"]
    s.cdr(1, "84951112299", at=702, result="answered", answered=708)
    card = s.client.get("/api/operator/campaign", headers=s.op()).json()["card"]
    second = card["attempts"][1]
    assert second["outcome"] == "answered"
    assert second["talk_until"] == (T0 + timedelta(seconds=708 + 300)).isoformat()
    success = statuses(s.client.get("/api/operator/campaign", headers=s.op()).json()["campaign"])
    s.post("/api/operator/campaign/result", body={"status_id": success["Успешный вызов"]}, at=800)
    p = s.progress(c["id"])
    assert (p["total"], p["done"], p["remaining"], p["called"]) == (1, 1, 0, 1)
    assert p["by_result"] == {"Успешный вызов": 1}
    # No attempts left and the card is done: nothing more to call.
    assert s.post("/api/operator/campaign/attempts", at=801).status_code == 409


def test_parallel_dials_every_number_and_busy_is_recorded(s: Setup) -> None:
    c = s.campaign(method="parallel", attempts=1)
    s.add(c["id"], "Роман", "+79161112233", "+79161112234")
    s.ready_in(c["id"], at=0)
    s.post("/api/operator/campaign/next", at=1)
    attempt = s.post("/api/operator/campaign/attempts", at=2).json()["attempt"]
    assert attempt["numbers"] == ["+79161112233", "+79161112234"]
    s.cdr(1, "+79161112233", at=2, result="busy")
    s.cdr(1, "+79161112234", at=2, result="missed")
    card = s.client.get("/api/operator/campaign", headers=s.op()).json()["card"]
    assert card["attempts"][0]["outcome"] == "busy"
    assert len(card["attempts"][0]["call_ids"]) == 2
    # A result needs a call; the last attempt used: «Нет ответа» is final now.
    no_answer = statuses(s.client.get(f"/api/campaigns/{c['id']}", headers=s.w.a.headers()).json())
    r = s.post("/api/operator/campaign/result", body={"status_id": no_answer["Нет ответа"]}, at=30)
    assert r.status_code == 200
    assert s.progress(c["id"])["done"] == 1


def test_a_callback_returns_to_the_same_operator_at_its_time(s: Setup) -> None:
    c = s.campaign(attempts=1)
    s.add(c["id"], "Ольга", "+79161112233")
    cid = c["id"]
    r = s.admin("POST", f"/api/campaigns/{cid}/statuses", json={"name": "Перезвонить позже"})
    later = statuses(r.json())["Перезвонить позже"]
    s.ready_in(cid, at=0)
    s.ready_in(cid, n=2, at=0)
    s.post("/api/operator/campaign/next", at=1)
    s.post("/api/operator/campaign/attempts", at=2)
    s.cdr(1, "+79161112233", at=3, result="answered", answered=5)
    callback = T0 + timedelta(hours=2)
    # A callback in the past is refused and names its field.
    r = s.post(
        "/api/operator/campaign/result",
        body={"status_id": later, "callback_at": (T0 - timedelta(hours=1)).isoformat()},
        at=60,
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "callback_at"
    r = s.post(
        "/api/operator/campaign/result",
        body={"status_id": later, "callback_at": callback.isoformat(), "comment": "после обеда"},
        at=60,
    )
    assert r.status_code == 200, r.text
    assert s.progress(cid)["callbacks"] == 1
    # Nobody gets it before its time, and the other operator never does.
    assert s.post("/api/operator/campaign/next", at=3600).json()["card"] is None
    assert s.post("/api/operator/campaign/next", 2, at=7300).json()["card"] is None
    card = s.post("/api/operator/campaign/next", at=7300).json()["card"]
    assert card["name"] == "Ольга" and card["comment"] == "после обеда"
    # The client asked for the call: one attempt is granted although the only one was used.
    assert card["attempts_left"] == 1
    assert s.post("/api/operator/campaign/attempts", at=7301).status_code == 201


def test_progress_counters_and_events(s: Setup, app: FastAPI) -> None:
    c = s.campaign()
    for i in range(3):
        s.add(c["id"], f"Клиент {i}", f"+7916111220{i}")
    seen: list[dict[str, Any]] = []
    bus = app.state.bus
    original = bus.publish

    def spy(type_: str, domain_id: int | None, data: dict[str, Any], audience: Any = None) -> Any:
        if type_ == "campaign.progress":
            seen.append(data)
        return original(type_, domain_id, data, audience)

    bus.publish = spy
    s.ready_in(c["id"], at=0)
    s.post("/api/operator/campaign/next", at=1)
    p = s.progress(c["id"])
    assert (p["total"], p["done"], p["in_progress"], p["remaining"]) == (3, 0, 1, 2)
    assert seen[-1]["in_progress"] == 1 and seen[-1]["campaign_id"] == c["id"]
    s.post("/api/operator/campaign/attempts", at=2)
    s.cdr(1, "+79161112200", at=2, result="answered", answered=4)
    ok = statuses(s.client.get(f"/api/campaigns/{c['id']}", headers=s.w.a.headers()).json())
    s.post("/api/operator/campaign/result", body={"status_id": ok["Успешный вызов"]}, at=60)
    assert seen[-1]["done"] == 1
    p = s.progress(c["id"])
    assert (p["total"], p["done"], p["in_progress"], p["remaining"]) == (3, 1, 0, 2)
    assert p["by_result"] == {"Успешный вызов": 1, "Начальное состояние": 2}
    export = s.admin("GET", f"/api/campaigns/{c['id']}/clients/export")
    assert export.status_code == 200 and "Успешный вызов" in export.content.decode("utf-8-sig")


def test_another_company_sees_and_changes_nothing(s: Setup) -> None:
    c = s.campaign()
    s.add(c["id"], "Николай", "+79161112233")
    b = s.w.b.headers()
    assert s.client.get(f"/api/campaigns/{c['id']}", headers=b).status_code == 404
    assert s.client.get("/api/campaigns", headers=b).json()["items"] == []
    r = s.client.patch(f"/api/campaigns/{c['id']}", json={"active": False}, headers=b)
    assert r.status_code == 404
    r = s.client.post(
        "/api/operator/campaign/start",
        json={"campaign_id": c["id"]},
        headers=s.w.b.headers("operator"),
    )
    assert r.status_code == 422
    # Operators and plain users do not manage campaigns.
    assert s.client.post("/api/campaigns", json={}, headers=s.op()).status_code == 403
    assert s.client.get("/api/campaigns", headers=s.w.a.headers("user")).status_code == 403
    assert s.admin("GET", f"/api/campaigns/{c['id']}").json()["active"] is True
