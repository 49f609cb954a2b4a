"""API errors: every error is JSON ``{code, message, details}`` in Russian or English.

The language follows ``Accept-Language`` (Russian unless the client asks for English first);
``details`` lists ``{field, message}`` so a form can show the message beside its field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic_core import PydanticCustomError
from sqlalchemy.exc import DataError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException


@dataclass(frozen=True)
class Text:
    """One message a person reads, in both languages."""

    ru: str
    en: str

    def pick(self, lang: str) -> str:
        return self.en if lang == "en" else self.ru


@dataclass(frozen=True)
class FieldProblem:
    field: str
    text: Text


@dataclass
class ApiError(Exception):
    status: int
    code: str
    text: Text
    details: list[FieldProblem] = field(default_factory=list)

    def body(self, lang: str) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.text.pick(lang),
            "details": [{"field": d.field, "message": d.text.pick(lang)} for d in self.details],
        }


def not_found(what: str = "object") -> ApiError:
    return ApiError(404, "not_found", Text("Объект не найден", f"The {what} was not found"))


def forbidden() -> ApiError:
    return ApiError(403, "forbidden", Text("Недостаточно прав", "You are not allowed to do that"))


def field_error(field_name: str, ru: str, en: str, status: int = 422) -> ApiError:
    """A validation error that names its field (the form shows it there)."""
    return ApiError(
        status,
        "validation_error",
        Text(f"Ошибка в поле «{field_name}»: {ru}", f"Invalid field '{field_name}': {en}"),
        [FieldProblem(field_name, Text(ru, en))],
    )


def conflict(field_name: str, ru: str, en: str) -> ApiError:
    return field_error(field_name, ru, en, status=409)


def bilingual_value_error(ru: str, en: str) -> PydanticCustomError:
    """Raise from a pydantic validator: the handler below shows the Russian or English text."""
    return PydanticCustomError("pult", "{en}", {"ru": ru, "en": en})


_RU_BY_TYPE = {
    "missing": "Обязательное поле",
    "string_too_short": "Слишком короткое значение",
    "string_too_long": "Слишком длинное значение",
    "string_type": "Ожидается строка",
    "int_parsing": "Ожидается целое число",
    "int_type": "Ожидается целое число",
    "bool_parsing": "Ожидается да/нет",
    "greater_than_equal": "Значение слишком мало",
    "less_than_equal": "Значение слишком велико",
    "greater_than": "Значение слишком мало",
    "less_than": "Значение слишком велико",
    "enum": "Недопустимое значение",
    "literal_error": "Недопустимое значение",
    "string_pattern_mismatch": "Неверный формат",
    "value_error": "Неверное значение",
    "json_invalid": "Неверный JSON",
    "model_attributes_type": "Ожидается объект",
    "dict_type": "Ожидается объект",
    "list_type": "Ожидается список",
    "extra_forbidden": "Неизвестное поле",
}


def language(request: Request) -> str:
    accept = request.headers.get("accept-language", "").lower()
    first = accept.split(",")[0].strip()
    return "en" if first.startswith("en") else "ru"


def _validation_problems(exc: RequestValidationError) -> list[FieldProblem]:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        name = ".".join(loc) or "body"
        ctx = err.get("ctx") or {}
        if err.get("type") == "pult":
            text = Text(str(ctx.get("ru")), str(ctx.get("en")))
        else:
            en = str(err.get("msg", "invalid value"))
            ru = _RU_BY_TYPE.get(str(err.get("type")), "Неверное значение")
            text = Text(ru, en)
        problems.append(FieldProblem(name, text))
    return problems


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(exc.body(language(request)), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _validation_problems(exc)
        first = problems[0] if problems else FieldProblem("body", Text("", ""))
        err = ApiError(
            422,
            "validation_error",
            Text(
                f"Ошибка в поле «{first.field}»: {first.text.ru}",
                f"Invalid field '{first.field}': {first.text.en}",
            ),
            problems,
        )
        return JSONResponse(err.body(language(request)), status_code=422)

    def _out_of_range(request: Request) -> JSONResponse:
        # An id past the column's integer range (SQLite: OverflowError while binding;
        # PostgreSQL: "integer out of range") names no object: that is "not found", not a 500.
        err = ApiError(
            404,
            "not_found",
            Text(
                "Объект не найден (идентификатор вне допустимого диапазона)",
                "Not found (the identifier is out of range)",
            ),
        )
        return JSONResponse(err.body(language(request)), status_code=404)

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        return _out_of_range(request)

    @app.exception_handler(StatementError)
    async def _statement(request: Request, exc: StatementError) -> JSONResponse:
        if isinstance(exc, DataError) or isinstance(exc.orig, OverflowError):
            return _out_of_range(request)
        raise exc

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        texts = {
            404: Text("Не найдено", "Not found"),
            405: Text("Метод не поддерживается", "Method not allowed"),
        }
        text = texts.get(exc.status_code, Text(str(exc.detail), str(exc.detail)))
        err = ApiError(exc.status_code, f"http_{exc.status_code}", text)
        return JSONResponse(err.body(language(request)), status_code=exc.status_code)
