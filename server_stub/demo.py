"""The demo domain (``python -m server_stub demo``): «ООО «Ромашка»», a small contact centre.

Everything a new user wants to click through is there: ~30 employees, two ACD queues with
operator workstation settings, a supervisor, an admin, a ring-all reception group, a pickup
group, three numbers, the company schedule with a lunch break, VIP callers, the company address
book and a pool supervisor. Passwords are fixed and printable on purpose: this is a demo, not a
tenant. Loading is idempotent: when ``demo.pult`` exists nothing is created again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.store import provision
from server_stub.store.models import (
    AuditEntry,
    CallGroup,
    Contact,
    ContactGroup,
    ContactPhone,
    Domain,
    DomainPool,
    GroupAlgorithm,
    GroupMember,
    Number,
    NumberKind,
    PhoneKind,
    PickupGroup,
    PoolAdmin,
    Schedule,
    User,
    VipNumber,
)

DOMAIN = "demo.pult"
COMPANY = "ООО «Ромашка»"
POOL = "Ромашка"
ROUTING_NUMBER = "5000"
BALANCE_KOPECKS = 10_000 * 100
PASSWORD = "Demo-pass1"
ADMIN_PASSWORD = "Admin-pass1"
POOL_LOGIN = "pool.romashka"
POOL_PASSWORD = "Pool-pass1"
CRM_URL = "https://crm.example/cards?phone={caller}&call={call_id}"
WEEKDAYS = range(5)  # 0 = Monday, as Python's date.weekday()


@dataclass(frozen=True)
class Person:
    login: str
    name: str
    position: str
    role: str = "user"  # user | operator | supervisor | domain_admin
    team: str = ""  # sales | support | reception | accounting


PEOPLE: tuple[Person, ...] = (
    Person("admin", "Соколов Андрей Викторович", "Системный администратор", "domain_admin"),
    Person("orlova", "Орлова Марина Сергеевна", "Руководитель контакт-центра", "supervisor"),
    Person("ivanov", "Иванов Иван Петрович", "Генеральный директор"),
    Person("petrova", "Петрова Анна Николаевна", "Главный бухгалтер", team="accounting"),
    Person("sidorova", "Сидорова Ольга Ивановна", "Бухгалтер", team="accounting"),
    Person("fedorova", "Фёдорова Елена Андреевна", "Бухгалтер по расчётам", team="accounting"),
    Person("kuznetsova", "Кузнецова Дарья Олеговна", "Секретарь", team="reception"),
    Person("vasileva", "Васильева Наталья Павловна", "Офис-менеджер", team="reception"),
    Person("smirnov", "Смирнов Алексей Игоревич", "Коммерческий директор"),
    Person("popov", "Попов Дмитрий Сергеевич", "Менеджер по продажам", "operator", "sales"),
    Person("lebedeva", "Лебедева Ксения Викторовна", "Менеджер по продажам", "operator", "sales"),
    Person("kozlov", "Козлов Артём Денисович", "Менеджер по продажам", "operator", "sales"),
    Person("novikova", "Новикова Юлия Романовна", "Менеджер по продажам", "operator", "sales"),
    Person("morozov", "Морозов Павел Андреевич", "Старший менеджер", "operator", "sales"),
    Person("volkova", "Волкова Ирина Максимовна", "Специалист поддержки", "operator", "support"),
    Person("alekseev", "Алексеев Никита Олегович", "Специалист поддержки", "operator", "support"),
    Person("pavlova", "Павлова Светлана Юрьевна", "Специалист поддержки", "operator", "support"),
    Person("semenov", "Семёнов Кирилл Ильич", "Специалист поддержки", "operator", "support"),
    Person("egorova", "Егорова Татьяна Львовна", "Ведущий специалист", "operator", "support"),
    Person("nikolaev", "Николаев Роман Валерьевич", "Технический директор"),
    Person("zakharov", "Захаров Михаил Евгеньевич", "Инженер"),
    Person("makarova", "Макарова Полина Алексеевна", "Инженер"),
    Person("zaitsev", "Зайцев Григорий Степанович", "Юрист"),
    Person("soloveva", "Соловьёва Вера Константиновна", "Специалист по кадрам"),
    Person("borisov", "Борисов Евгений Михайлович", "Руководитель отдела логистики"),
    Person("yakovleva", "Яковлева Алина Тимуровна", "Логист"),
    Person("grigorev", "Григорьев Станислав Борисович", "Водитель-экспедитор"),
    Person("romanova", "Романова Людмила Васильевна", "Маркетолог"),
    Person("titov", "Титов Илья Андреевич", "Дизайнер"),
    Person("belova", "Белова Мария Дмитриевна", "Аналитик"),
)

FIRST_EXTENSION = 101
GROUP_EXTENSIONS = {"reception": "500", "sales": "501", "support": "502"}

NUMBERS = (
    ("+74951234567", NumberKind.LANDLINE, "Основной (Москва)"),
    ("+74957654321", NumberKind.LANDLINE, "Отдел продаж (Москва)"),
    ("+78001234567", NumberKind.TOLL_FREE, "Горячая линия 8-800"),
)

VIPS = (
    ("+79161112233", 1, "Генеральный директор ООО «Вектор»"),
    ("+79035556677", 2, "Ключевой клиент: сеть «Лютик»"),
    ("+74993334455", 3, "Главный поставщик: АО «Василёк»"),
)

CONTACT_BOOK: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    # group -> (name, position, work phone, mobile phone)
    "Поставщики": (
        ("АО «Василёк»", "Поставщик упаковки", "+74993334455", "+79261230001"),
        ("ООО «Одуванчик»", "Поставщик сырья", "+74956660011", "+79261230002"),
        ("ИП Клеверов К. К.", "Транспортные услуги", "+74957770022", "+79261230003"),
        ("ООО «Незабудка»", "Канцелярия", "+74958880033", "+79261230004"),
        ("ЗАО «Подсолнух»", "Аренда офиса", "+74959990044", "+79261230005"),
    ),
    "Клиенты": (
        ("ООО «Вектор»", "Оптовый клиент", "+74951112233", "+79161112233"),
        ("Сеть «Лютик»", "Розничная сеть", "+74952223344", "+79035556677"),
        ("ООО «Тюльпан»", "Дистрибьютор", "+78123456789", "+79111230006"),
        ("АО «Астра»", "Корпоративный клиент", "+73432223344", "+79221230007"),
        ("ООО «Ирис»", "Интернет-магазин", "+78432224455", "+79171230008"),
    ),
}


def _group_settings(name: str) -> dict[str, object]:
    return {
        "greeting_text": f"Здравствуйте! {COMPANY}, {name.lower()}. Чем могу помочь?",
        "answer_seconds": 20,
        "post_call_seconds": 30,
        "avg_talk_seconds": 180,
        "crm_url_template": CRM_URL,
    }


def _rows() -> list[tuple[str, str, str]]:
    rows = [
        (f"{p.login}@{DOMAIN}", ADMIN_PASSWORD if p.role == "domain_admin" else PASSWORD, p.role)
        for p in PEOPLE
    ]
    rows.append((POOL_LOGIN, POOL_PASSWORD, "pool_supervisor"))
    return rows


def _pool(session: Session) -> DomainPool:
    pool = session.execute(select(DomainPool).where(DomainPool.name == POOL)).scalar_one_or_none()
    return pool or provision.create_pool(session, POOL)


def _users(session: Session, domain: Domain) -> dict[str, User]:
    users: dict[str, User] = {}
    for index, person in enumerate(PEOPLE):
        users[person.login] = provision.create_user(
            session,
            domain,
            person.login,
            ADMIN_PASSWORD if person.role == "domain_admin" else PASSWORD,
            person.name,
            extension=str(FIRST_EXTENSION + index),
            email=f"{person.login}@romashka.example",
            position=person.position,
            is_operator=person.role == "operator",
            is_supervisor=person.role == "supervisor",
            is_admin=person.role == "domain_admin",
        )
    return users


def _group(
    session: Session,
    domain: Domain,
    team: str,
    name: str,
    algorithm: GroupAlgorithm,
    users: dict[str, User],
    **settings: object,
) -> CallGroup:
    group = CallGroup(
        domain_id=domain.id,
        name=name,
        extension=GROUP_EXTENSIONS[team],
        algorithm=algorithm,
        email=f"{team}@romashka.example",
        **settings,
    )
    session.add(group)
    session.flush()
    members = [p for p in PEOPLE if p.team == team]
    for priority, person in enumerate(members, start=1):
        session.add(
            GroupMember(group_id=group.id, user_id=users[person.login].id, priority=priority)
        )
    return group


def _schedule(session: Session, domain: Domain) -> Schedule:
    schedule = Schedule(
        domain_id=domain.id,
        name="Рабочее время",
        is_company=True,
        intervals={
            "working": [[day, "09:00", "18:00"] for day in WEEKDAYS],
            "extra": [{"name": "Обед", "intervals": [[day, "13:00", "14:00"] for day in WEEKDAYS]}],
        },
    )
    session.add(schedule)
    session.flush()
    return schedule


def _contacts(session: Session, domain: Domain) -> None:
    for group_name, entries in CONTACT_BOOK.items():
        group = ContactGroup(domain_id=domain.id, owner_user_id=None, name=group_name)
        session.add(group)
        session.flush()
        for name, position, work, mobile in entries:
            contact = Contact(domain_id=domain.id, group_id=group.id, name=name, position=position)
            contact.phones = [
                ContactPhone(kind=PhoneKind.WORK, number=work),
                ContactPhone(kind=PhoneKind.MOBILE, number=mobile),
            ]
            session.add(contact)


def load_demo(session: Session) -> list[tuple[str, str, str]]:
    """Create the demo company; return (login, password, role) rows to print.

    The caller commits (``session_scope``); a second call finds ``demo.pult`` and only returns
    the rows, so running ``demo`` twice never duplicates anything.
    """
    exists = session.execute(select(Domain.id).where(Domain.name == DOMAIN)).first()
    if exists is not None:
        return _rows()

    pool = _pool(session)
    domain = provision.create_domain(
        session,
        DOMAIN,
        display_name=COMPANY,
        pool=pool,
        routing_number=ROUTING_NUMBER,
        balance_kopecks=BALANCE_KOPECKS,
    )
    domain.notification_email = "admin@romashka.example"
    users = _users(session, domain)

    _group(session, domain, "reception", "Ресепшн", GroupAlgorithm.RING_ALL, users)
    for team, name, algorithm in (
        ("sales", "Продажи", GroupAlgorithm.LONGEST_IDLE),
        ("support", "Поддержка", GroupAlgorithm.LEAST_BUSY),
    ):
        _group(session, domain, team, name, algorithm, users, **_group_settings(name))

    pickup = PickupGroup(domain_id=domain.id, name="Бухгалтерия")
    session.add(pickup)
    session.flush()
    for person in PEOPLE:
        if person.team == "accounting":
            users[person.login].pickup_group_id = pickup.id

    schedule = _schedule(session, domain)
    numbers = [
        Number(domain_id=domain.id, e164=e164, kind=kind, name=name, schedule_id=schedule.id)
        for e164, kind, name in NUMBERS
    ]
    session.add_all(numbers)
    session.flush()
    domain.default_outgoing_number_id = numbers[0].id

    session.add_all(
        VipNumber(domain_id=domain.id, e164=e164, priority=priority, comment=comment)
        for e164, priority, comment in VIPS
    )
    _contacts(session, domain)

    if session.execute(select(PoolAdmin.id).where(PoolAdmin.login == POOL_LOGIN)).first() is None:
        provision.create_pool_admin(
            session,
            pool,
            POOL_LOGIN,
            POOL_PASSWORD,
            "Супервизор пула «Ромашка»",
            supervisor=True,
            email="pool@romashka.example",
        )
    session.add(
        AuditEntry(
            domain_id=domain.id,
            pool_id=pool.id,
            actor_kind="system",
            actor_login="demo",
            action="create",
            object_type="domain",
            object_id=str(domain.id),
            object_name=DOMAIN,
        )
    )
    session.flush()
    return _rows()
