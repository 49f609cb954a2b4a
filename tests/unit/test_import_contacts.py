"""Contact import validation, without a database: phones, speed dials, groups."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from server_stub.importing.contacts import (
    CONTACT_COLUMNS,
    ContactContext,
    ContactImport,
    check_contacts,
)
from server_stub.importing.messages import NOT_UNIQUE
from server_stub.importing.reader import read_table

HEADER = [c.title for c in CONTACT_COLUMNS]


def row(name: str, dial: str = "", group: str = "", **phones: str) -> list[str]:
    keys = ("ip", "work", "mobile", "home", "other")
    return [name, group, dial, *(phones.get(k, "") for k in keys)]


def check(rows: Sequence[Sequence[str]], dials: set[str] | None = None) -> ContactImport:
    data = "\n".join(";".join(r) for r in [HEADER, *rows]).encode()
    context = ContactContext(groups={"бухгалтерия": "Бухгалтерия"}, speed_dials=dials or set())
    return check_contacts(read_table(data, CONTACT_COLUMNS), context)


@pytest.mark.parametrize(
    ("raw", "column"),
    [
        ("+7495112233", "E (Рабочий телефон)"),  # one digit short
        ("+78992223344", "F (Мобильный телефон)"),  # no such numbering range
    ],
)
def test_the_manuals_rejected_phone_examples_are_errors(raw: str, column: str) -> None:
    kind = "work" if column.startswith("E") else "mobile"
    out = check([row("Хороший", work="+74951112233"), row("Плохой", **{kind: raw})])
    assert out.rows_valid == 1
    [error] = out.errors
    assert (error.line, error.column, error.value) == (3, column, raw)
    assert "номер" in error.message.ru.lower()


def test_phones_are_normalised_to_e164_with_their_kinds() -> None:
    out = check(
        [
            row(
                "А",
                work="8 (495) 111-22-33",
                mobile="+7 999 111 22 33",
                ip="sip:Desk@pbx.example.com",
            )
        ]
    )
    assert out.valid[0].phones == (
        ("ip", "Desk@pbx.example.com"),
        ("work", "+74951112233"),
        ("mobile", "+79991112233"),
    )


def test_ip_phone_may_be_an_extension_with_a_routing_number() -> None:
    assert check([row("А", ip="3020")]).valid[0].phones == (("ip", "3020"),)
    assert check([row("А", ip="44553020")]).valid[0].phones == (("ip", "44553020"),)


def test_ip_phone_that_is_neither_digits_nor_a_sip_address_is_an_error() -> None:
    [error] = check([row("А", ip="desk phone")]).errors
    assert error.column == "D (IP-телефон)" and "SIP-адрес" in error.message.ru


def test_the_pickup_code_is_never_a_speed_dial() -> None:
    out = check([row("a", "8", work="+74951112233")])
    assert "код перехвата" in out.errors[0].message.ru
    data = "\n".join(";".join(r) for r in [HEADER, row("b", work="+74951112233")]).encode()
    context = ContactContext(groups={}, speed_dials=set(), pickup_code="*10")
    assert check_contacts(read_table(data, CONTACT_COLUMNS), context).valid[0].speed_dial == "11"


def test_at_least_one_phone_is_required() -> None:
    out = check([row("Без телефона")])
    [error] = out.errors
    assert error.line == 2 and error.field == "phones"
    assert error.column == "D, E, F, G, H (Телефоны)"
    assert "хотя бы один" in error.message.ru


def test_name_is_required() -> None:
    [error] = check([row("", work="+74951112233")]).errors
    assert (error.line, error.column) == (2, "A (Имя)")


def test_speed_dial_rules() -> None:
    out = check(
        [
            row("a", "15", work="+74951112233"),
            row("b", "1x", work="+74951112233"),
            row("c", "15", work="+74951112233"),
            row("d", "20", work="+74951112233"),
            row("e", "123456", work="+74951112233"),
        ],
        dials={"20"},
    )
    by_line = {e.line: e.message.ru for e in out.errors}
    assert by_line[2] == by_line[4] == NOT_UNIQUE.ru
    assert "от 1 до 5 цифр" in by_line[3] and "от 1 до 5 цифр" in by_line[6]
    assert "уже используется" in by_line[5]
    assert out.rows_valid == 0


def test_empty_speed_dials_get_the_lowest_free_from_ten() -> None:
    out = check(
        [
            row("a", work="+74951112233"),
            row("b", "11", work="+74951112233"),
            row("c", work="+74951112233"),
        ],
        dials={"10", "12"},
    )
    assert [c.speed_dial for c in out.valid] == ["13", "11", "14"]


def test_groups_matched_case_insensitively_missing_ones_created_once() -> None:
    out = check(
        [
            row("a", group="бухгалтерия", work="+74951112233"),
            row("b", group="Склад", work="+74951112233"),
            row("c", group="склад", work="+74951112233"),
            row("d", work="+74951112233"),
        ]
    )
    assert [c.group for c in out.valid] == ["Бухгалтерия", "Склад", "Склад", None]
    assert out.new_groups == ["Склад"]


def test_demo_sample_file_has_two_good_and_the_two_rejected_phones() -> None:
    data = (Path(__file__).parents[2] / "resources/demo/import-contacts-sample.csv").read_bytes()
    out = check_contacts(read_table(data, CONTACT_COLUMNS), ContactContext({}, set()))
    assert [c.name for c in out.valid] == ["ООО «Ромашка», бухгалтерия", "Курьерская служба"]
    assert [(e.line, e.value) for e in out.errors] == [(4, "+7495112233"), (5, "+78992223344")]
